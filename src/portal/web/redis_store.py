"""The Redis store of sessions and login throttling: Litestar's, with one deadline per call.

redis-py bounds every socket operation itself (five seconds by default), but on Python 3.11
it bounds each write with ``asyncio.wait_for``, which starts a task per command: on a tap,
whose session is read and written back, that was a ninth of the request's CPU. Here the
socket operations are left unbounded and each store call as a whole is bounded instead,
with ``asyncio.timeout`` (no task). A Redis that stops answering still fails the request
within the deadline, as the same ``redis.exceptions.TimeoutError`` (a French 503 page), and
redis-py drops a connection whose read was cancelled, so no reply is read by the wrong
command afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar.stores.redis import RedisStore
from redis import exceptions as redis_exceptions
from redis.asyncio import ConnectionPool, Redis

DEADLINE_SECONDS = 5.0


class DeadlineRedisStore(RedisStore):
    deadline_seconds = DEADLINE_SECONDS

    @classmethod
    def connect(cls, url: str, namespace: str) -> DeadlineRedisStore:
        pool = ConnectionPool.from_url(
            url,
            decode_responses=False,
            socket_timeout=None,
            socket_connect_timeout=cls.deadline_seconds,
        )
        return cls(
            redis=Redis(connection_pool=pool), namespace=namespace, handle_client_shutdown=True
        )

    def with_namespace(self, namespace: str) -> DeadlineRedisStore:
        child = super().with_namespace(namespace)
        assert isinstance(child, DeadlineRedisStore)
        child.deadline_seconds = self.deadline_seconds
        return child

    @asynccontextmanager
    async def _deadline(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.deadline_seconds):
                yield
        except TimeoutError as exc:
            raise redis_exceptions.TimeoutError(
                f"Redis n'a pas répondu en {self.deadline_seconds:g} s"
            ) from exc

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        async with self._deadline():
            await super().set(key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._deadline():
            return await super().get(key, renew_for)

    async def delete(self, key: str) -> None:
        async with self._deadline():
            await super().delete(key)

    async def delete_all(self) -> None:
        async with self._deadline():
            await super().delete_all()

    async def exists(self, key: str) -> bool:
        async with self._deadline():
            return await super().exists(key)

    async def expires_in(self, key: str) -> int | None:
        async with self._deadline():
            return await super().expires_in(key)

    async def replace(self, key: str, value: bytes, expires_in: int) -> bool:
        """Write the key only if it still exists (one ``SET ... XX``); whether it did."""
        async with self._deadline():
            return bool(await self._redis.set(self._make_key(key), value, ex=expires_in, xx=True))
