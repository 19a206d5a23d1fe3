"""What a browser's push subscription must look like, and what a push service's answer
means."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from portal.domain.push import rules
from portal.domain.push.rules import Answer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


P256DH = _b64(b"\x04" + bytes(range(64)))
AUTH = _b64(bytes(16))


def _sub(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    raw.update(overrides)
    return raw


def test_a_browser_subscription_is_read() -> None:
    sub = rules.parse_subscription(_sub())
    assert sub.endpoint.endswith("/abc")
    assert sub.as_info() == {"endpoint": sub.endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}}
    assert len(sub.endpoint_hash) == 64


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {},
        _sub(endpoint="http://push.example.com/x"),  # plain http off this machine
        _sub(endpoint="ftp://push.example.com/x"),
        _sub(endpoint="https://" + "a" * 2100),
        _sub(endpoint=12),
        _sub(keys={"p256dh": P256DH}),
        _sub(keys={"p256dh": _b64(b"\x04" + bytes(10)), "auth": AUTH}),
        _sub(keys={"p256dh": P256DH, "auth": _b64(bytes(3))}),
        _sub(keys={"p256dh": "***", "auth": AUTH}),
        _sub(keys="nope"),
    ],
)
def test_unusable_subscriptions_are_refused_in_french(raw: Any) -> None:
    with pytest.raises(rules.SubscriptionError):
        rules.parse_subscription(raw)


def test_a_local_push_service_may_be_plain_http() -> None:
    assert rules.parse_subscription(_sub(endpoint="http://127.0.0.1:8123/push/1")).endpoint


def test_payload_keeps_links_on_the_portal() -> None:
    data = json.loads(rules.payload("Titre", "Texte", "/suivi", tag="t"))
    assert data == {"title": "Titre", "body": "Texte", "url": "/suivi", "tag": "t"}
    assert json.loads(rules.payload("T", "B", "https://evil.example/"))["url"] == "/"
    assert json.loads(rules.payload("T", "B", "//evil.example/"))["url"] == "/"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (201, Answer.SENT),
        (200, Answer.SENT),
        (404, Answer.GONE),
        (410, Answer.GONE),
        (429, Answer.RETRY),
        (503, Answer.RETRY),
        (None, Answer.RETRY),
        (400, Answer.REJECTED),
        (413, Answer.REJECTED),
    ],
)
def test_push_service_answers(status: int | None, answer: Answer) -> None:
    assert rules.classify(status) is answer
