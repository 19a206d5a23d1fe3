"""Counting attempts per key in a store (login throttling per address)."""

from __future__ import annotations

from litestar.stores.base import Store


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
