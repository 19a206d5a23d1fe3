"""Counting failures in a store: login throttling per (login, address) and per address.

The store is Redis when configured (shared by every web process), else the process's
memory. Read-then-write is not atomic across processes: two failures racing may count as
one, which only loosens the bound by the number of processes, never locks anyone out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass

from litestar.stores.base import Store

from portal import clock
from portal.domain.accounts.rules import LoginThrottlePolicy
from portal.settings import Settings


async def count_attempt(store: Store, key: str, window_seconds: int) -> int:
    """Record one attempt and return how many fell in the current window."""
    raw = await store.get(key)
    count = int(raw) + 1 if raw else 1
    # The window starts at the first attempt; later attempts keep its remaining time.
    ttl = await store.expires_in(key) if raw else None
    await store.set(key, str(count), expires_in=ttl if ttl and ttl > 0 else window_seconds)
    return count


async def attempts(store: Store, key: str) -> int:
    raw = await store.get(key)
    return int(raw) if raw else 0


async def forget(store: Store, key: str) -> None:
    await store.delete(key)


@dataclass(frozen=True)
class LoginRefusal:
    message: str
    retry_after: int


ADDRESS_MESSAGE = (
    "Trop de tentatives infructueuses depuis votre connexion : patientez quelques minutes "
    "avant de réessayer, ou réinitialisez votre mot de passe."
)


def address_group(address: str) -> str:
    """The unit the per-address limits count by: an IPv4 address, or an IPv6 address's /64
    (one subscriber's network: counting single IPv6 addresses would give each client some
    eighteen billion billion counters)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _pair_key(area: str, login: str, address: str) -> str:
    # Hashed: logins are free text, and case variants share one counter.
    group = address_group(address)
    digest = hashlib.sha256(f"{login.strip().lower()}\0{group}".encode()).hexdigest()[:40]
    return f"{area}-fail:{digest}"


def _address_key(area: str, address: str) -> str:
    return f"{area}-fail-address:{address_group(address)}"


class LoginThrottle:
    """Failure-only throttling of one login form (`area`: "login" or "staff-login")."""

    def __init__(self, store: Store, settings: Settings, area: str) -> None:
        self.store = store
        self.policy = LoginThrottlePolicy(
            free_failures=settings.login_free_failures,
            max_delay_seconds=settings.login_max_delay_seconds,
            address_max_failures=settings.login_address_max_failures,
        )
        self.area = area

    async def _pair(self, login: str, address: str) -> tuple[int, float]:
        raw = await self.store.get(_pair_key(self.area, login, address))
        if not raw:
            return 0, 0.0
        try:
            value = json.loads(raw)
            return int(value["n"]), float(value["at"])
        except (ValueError, KeyError, TypeError):
            return 0, 0.0

    async def check(self, login: str, address: str) -> LoginRefusal | None:
        """Whether this attempt must wait; the same answer whether the login exists or not."""
        if await attempts(self.store, _address_key(self.area, address)) >= (
            self.policy.address_max_failures
        ):
            return LoginRefusal(ADDRESS_MESSAGE, self.policy.address_window_seconds)
        failures, last = await self._pair(login, address)
        wait = self.policy.wait_left(failures, last, clock.utcnow().timestamp())
        if wait:
            return LoginRefusal(
                "Trop d'essais infructueux pour cet identifiant : réessayez dans "
                f"{wait} seconde{'s' if wait > 1 else ''}, ou réinitialisez votre mot de passe.",
                wait,
            )
        return None

    async def failed(self, login: str, address: str) -> None:
        failures, _ = await self._pair(login, address)
        await self.store.set(
            _pair_key(self.area, login, address),
            json.dumps({"n": failures + 1, "at": clock.utcnow().timestamp()}),
            expires_in=self.policy.pair_window_seconds,
        )
        await count_attempt(
            self.store, _address_key(self.area, address), self.policy.address_window_seconds
        )

    async def succeeded(self, login: str, address: str) -> None:
        await forget(self.store, _pair_key(self.area, login, address))
