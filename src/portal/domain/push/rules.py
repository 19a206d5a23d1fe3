"""Pure rules of web push: what a subscription sent by a browser must look like, the
payload the service worker reads, and what a push service's answer means."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

MAX_ENDPOINT = 2000
MAX_TITLE = 120
MAX_BODY = 1000
# How long a push service keeps a message for a device that is offline (seconds).
TTL_SECONDS = 24 * 3600


class SubscriptionError(ValueError):
    """A subscription the portal cannot use (French message)."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str

    @property
    def endpoint_hash(self) -> str:
        return hashlib.sha256(self.endpoint.encode()).hexdigest()

    def as_info(self) -> dict[str, Any]:
        """The shape pywebpush (and PushSubscription.toJSON()) uses."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def _b64url_bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SubscriptionError("Clés d'abonnement illisibles.") from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_subscription(raw: Mapping[str, Any] | None) -> Subscription:
    """A `PushSubscription.toJSON()` from the browser: an https endpoint (plain http only
    on this machine, for a local push service) and the two keys of RFC 8291."""
    if not isinstance(raw, Mapping):
        raise SubscriptionError("Abonnement aux notifications illisible.")
    endpoint = raw.get("endpoint")
    keys = raw.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
        raise SubscriptionError("Abonnement aux notifications illisible.")
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise SubscriptionError("Adresse d'abonnement trop longue ou vide.")
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or ""))
    if not secure or not parts.hostname:
        raise SubscriptionError("Adresse d'abonnement refusée : elle doit être en https.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise SubscriptionError("Clés d'abonnement manquantes.")
    if len(p256dh) > 200 or len(auth) > 100:
        raise SubscriptionError("Clés d'abonnement illisibles.")
    # RFC 8291: an uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte secret.
    point = _b64url_bytes(p256dh)
    if len(point) != 65 or point[0] != 4 or len(_b64url_bytes(auth)) != 16:
        raise SubscriptionError("Clés d'abonnement illisibles.")
    return Subscription(endpoint, p256dh, auth)


def payload(title: str, body: str, url: str, tag: str = "") -> bytes:
    """What the service worker's `push` handler reads (JSON, encrypted on the way)."""
    safe_url = url if url.startswith("/") and not url.startswith("//") else "/"
    return json.dumps(
        {"title": title[:MAX_TITLE], "body": body[:MAX_BODY], "url": safe_url, "tag": tag},
        ensure_ascii=False,
    ).encode()


class Answer(StrEnum):
    SENT = "sent"
    GONE = "gone"  # the subscription expired or was revoked: drop it
    RETRY = "retry"  # the push service is busy or down: try again later
    REJECTED = "rejected"  # our message is wrong (too big, bad key): retrying will not help


def classify(status: int | None) -> Answer:
    """A push service's HTTP status (None: no answer at all)."""
    if status is None or status == 429 or status >= 500:
        return Answer.RETRY
    if 200 <= status < 300:
        return Answer.SENT
    if status in (404, 410):
        return Answer.GONE
    return Answer.REJECTED
