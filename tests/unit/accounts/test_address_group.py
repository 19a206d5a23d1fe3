"""Per-address limits count an IPv6 client by its /64: one subscriber's network holds more
addresses than any counter could tell apart."""

from __future__ import annotations

from pathlib import Path

from litestar.stores.memory import MemoryStore

from portal.web.throttle import LoginThrottle, address_group
from tests.conftest import make_settings


def test_address_groups() -> None:
    assert address_group("203.0.113.7") == "203.0.113.7"
    assert address_group("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:2::9") == address_group("2001:db8:1:2:ffff::1")
    assert address_group("2001:db8:1:3::9") != address_group("2001:db8:1:2::9")
    assert address_group("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_group("unknown") == "unknown"


async def test_addresses_of_one_network_share_the_address_limit(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, "sqlite:///unused.sqlite3", PORTAL_LOGIN_ADDRESS_MAX_FAILURES=4
    )
    gate = LoginThrottle(MemoryStore(), settings, "login")
    for n in range(4):
        await gate.failed(f"parent{n}", f"2001:db8:1:2::{n + 1}")
    refusal = await gate.check("someone-else", "2001:db8:1:2::abcd")
    assert refusal is not None and "depuis votre connexion" in refusal.message
    assert await gate.check("someone-else", "2001:db8:1:3::1") is None
