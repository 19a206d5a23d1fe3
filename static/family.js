/* Portail Famille: this device's web-push subscription (profile, « Notifications »).
 *
 * The button asks the browser's permission, subscribes through the service worker's
 * PushManager with the server's VAPID public key (data-vapid-key), and sends the
 * subscription to the portal; « Arrêter » unsubscribes here and there. Without the Push
 * API (old browsers; iPhone outside the installed app) the hint stays visible.
 *
 * Offline glance: the home page fetches the family's next bookings and balances (dated,
 * never HTTP-cached) and keeps them in localStorage; the offline page shows them. They
 * are removed at logout (here, and by the server's Clear-Site-Data "storage") and on the
 * login page; nothing else personal is kept.
 */
(function () {
  "use strict";

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function csrfToken() {
    var main = document.getElementById("contenu");
    try {
      return JSON.parse(main.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          throw new Error(data.erreur || "le portail n'a pas pu enregistrer l'abonnement");
        });
      }
      return response;
    });
  }

  function setUp(box) {
    var status = box.querySelector("[data-push-status]");
    var hint = box.querySelector("[data-push-unsupported]");
    var on = box.querySelector("[data-push-subscribe]");
    var off = box.querySelector("[data-push-unsubscribe]");
    if (!("serviceWorker" in navigator) || !("PushManager" in window) ||
        !("Notification" in window) || !window.isSecureContext) {
      return;
    }
    hint.hidden = true;

    function show(subscribed) {
      on.hidden = subscribed;
      off.hidden = !subscribed;
    }

    function say(text) {
      status.textContent = text;
    }

    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      show(Boolean(subscription));
      if (subscription) {
        // Known again to the portal (its copy may have been dropped or moved).
        post(box.getAttribute("data-subscribe-url"), subscription.toJSON()).catch(function () {});
      }
    });

    on.addEventListener("click", function () {
      on.disabled = true;
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") {
          throw new Error("les notifications sont bloquées pour ce site dans les réglages du navigateur");
        }
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-vapid-key"))
        });
      }).then(function (subscription) {
        return post(box.getAttribute("data-subscribe-url"), subscription.toJSON());
      }).then(function () {
        show(true);
        say("Notifications activées sur cet appareil. Cochez « Notification » pour les sujets voulus, puis enregistrez.");
      }).catch(function (error) {
        say("Impossible d'activer les notifications sur cet appareil : " + error.message + ".");
      }).then(function () {
        on.disabled = false;
      });
    });

    off.addEventListener("click", function () {
      off.disabled = true;
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription();
      }).then(function (subscription) {
        if (!subscription) {
          return undefined;
        }
        var body = { endpoint: subscription.endpoint };
        return subscription.unsubscribe().then(function () {
          return post(box.getAttribute("data-unsubscribe-url"), body);
        });
      }).then(function () {
        show(false);
        say("Cet appareil ne recevra plus de notifications.");
      }).catch(function (error) {
        say("Impossible d'arrêter les notifications : " + error.message + ".");
      }).then(function () {
        off.disabled = false;
      });
    });
  }

  var GLANCE_KEY = "portail-famille-apercu";

  function forgetGlance() {
    try {
      window.localStorage.removeItem(GLANCE_KEY);
    } catch (error) {
      // Storage disabled: nothing was kept.
    }
  }

  function keepGlance(source) {
    fetch(source.getAttribute("data-glance-source"), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (glance) {
      if (glance) {
        window.localStorage.setItem(GLANCE_KEY, JSON.stringify(glance));
      }
    }).catch(function () {
      // Offline or storage full: the previous glance stays.
    });
  }

  function item(text) {
    var li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  function showGlance(box) {
    var glance = null;
    try {
      glance = JSON.parse(window.localStorage.getItem(GLANCE_KEY) || "null");
    } catch (error) {
      glance = null;
    }
    if (!glance || !glance.as_of) {
      return;
    }
    box.querySelector("[data-glance-date]").textContent = "Situation " + glance.as_of;
    var wallets = box.querySelector("[data-glance-wallets]");
    (glance.wallets || []).forEach(function (wallet) {
      wallets.appendChild(item(wallet.name + " : " + wallet.balance));
    });
    var children = box.querySelector("[data-glance-children]");
    (glance.children || []).forEach(function (child) {
      var title = document.createElement("h4");
      title.textContent = child.first_name;
      children.appendChild(title);
      var list = document.createElement("ul");
      (child.bookings || []).forEach(function (booking) {
        list.appendChild(item(booking.day + " · " + booking.activity + " · " + booking.status));
      });
      if (!list.children.length) {
        list.appendChild(item("Aucune réservation à venir."));
      }
      children.appendChild(list);
    });
    box.hidden = false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && /\/deconnexion$/.test(form.getAttribute("action") || "")) {
      forgetGlance();
    }
  });

  function start() {
    var boxes = document.querySelectorAll("[data-push]");
    for (var i = 0; i < boxes.length; i += 1) {
      setUp(boxes[i]);
    }
    if (/^\/(connexion|gestion\/connexion)/.test(window.location.pathname)) {
      forgetGlance();
    }
    var source = document.querySelector("[data-glance-source]");
    if (source) {
      keepGlance(source);
    }
    var shown = document.querySelector("[data-glance]");
    if (shown) {
      showGlance(shown);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
