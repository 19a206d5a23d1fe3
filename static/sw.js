/* Portail Famille: service worker, served at /sw.js (scope "/") by portal.pages.pwa.
 *
 * - Static assets (/static/..., the manifest): cache first, in a cache named after the
 *   deployment's version. The route that serves this file writes the version (a hash of the
 *   static files, the manifest and the offline page's templates) into CONFIG below, so any
 *   change to them makes a new worker, which installs at once (skipWaiting), takes over the
 *   open pages (clients.claim) and deletes the previous caches.
 * - Pages: always from the network. Nothing personal is ever cached: the only HTML kept is
 *   the offline page (/hors-ligne), shown when a page cannot be reached.
 * - htmx fragments, forms (POST) and everything else go to the network untouched.
 * - At logout the server sends Clear-Site-Data; the page also asks this worker to drop
 *   every cache but the static one (message "clear-personal").
 */
/* eslint-env serviceworker */
"use strict";

// The next line is rewritten by the /sw.js route; the values here are for reading only.
var CONFIG = /*CONFIG*/ {"version": "dev", "offline": "/hors-ligne", "precache": ["/hors-ligne"]} /*END CONFIG*/;

var PREFIX = "portail-famille-";
var STATIC_CACHE = PREFIX + "static-" + CONFIG.version;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) {
      // "reload": straight from the server, never from the HTTP cache of an older version.
      return cache.addAll(CONFIG.precache.map(function (url) {
        return new Request(url, { cache: "reload", credentials: "same-origin" });
      }));
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name !== STATIC_CACHE;
      }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () {
      if (self.registration.navigationPreload) {
        return self.registration.navigationPreload.enable();
      }
      return undefined;
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "clear-personal") {
    return;
  }
  // Only the static cache holds anything, and nothing personal; drop the rest anyway.
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name !== STATIC_CACHE;
      }).map(function (name) {
        return caches.delete(name);
      }));
    })
  );
});

function isStatic(url) {
  return url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest";
}

function fromCacheFirst(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (cached) {
      if (cached) {
        return cached;
      }
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") {
          cache.put(request, response.clone());
        }
        return response;
      });
    });
  });
}

function offlinePage() {
  return caches.match(CONFIG.offline).then(function (cached) {
    return cached || new Response(
      "Vous êtes hors ligne : le Portail Famille a besoin d'une connexion Internet.",
      { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } }
    );
  });
}

function fromNetworkFirst(event) {
  // Pages are never stored: the network, or the offline page when it cannot be reached.
  return Promise.resolve(event.preloadResponse).then(function (preloaded) {
    return preloaded || fetch(event.request);
  }).catch(offlinePage);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fromNetworkFirst(event));
  } else if (isStatic(url)) {
    event.respondWith(fromCacheFirst(request));
  }
});

// Web push (Push API): the portal sends {title, body, url, tag}, encrypted (RFC 8291);
// nothing of it is kept here. A tap opens (or focuses) the page it points to.
self.addEventListener("push", function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(message.title || "Portail Famille", {
    body: message.body || "",
    tag: message.tag || undefined,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    lang: "fr",
    data: { url: message.url || "/" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var wanted = (event.notification.data && event.notification.data.url) || "/";
  var target = new URL(wanted, self.location.origin);
  if (target.origin !== self.location.origin) {
    target = new URL("/", self.location.origin);
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === target.href && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
