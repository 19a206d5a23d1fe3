"""argon2id hashing, run in worker threads with a bounded number in flight.

Parameters: OWASP's current minimum for argon2id (19 MiB, 2 passes, 1 lane), about 25 ms of
CPU per hash on one core where the library defaults (64 MiB, t=3, p=4) cost about 180 ms.
Hashes made with other parameters are upgraded at the next successful login
(`needs_rehash`). A hash never runs on the event loop: `verify_password_async` and
`hash_password_async` hand it to a worker thread, at most `HASH_CONCURRENCY` at a time, so
that a wave of logins queues for the CPU instead of stalling every other request.
"""

from __future__ import annotations

import weakref
from asyncio import AbstractEventLoop, get_running_loop

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
MEMORY_KIB = 19 * 1024
PARALLELISM = 1
# Hashes running at once per web process (each holds 19 MiB), the others wait their turn.
# One: the deployment runs a process per core, and a process hashing on several threads
# takes the cores from the event loops, so parents already in (tapping, confirming) wait
# behind those logging in. Measured with bench/opening_rush.py, 400 families, 200 at a
# time, two processes on two cores: one thread each instead of two finished in 29.9 s
# instead of 31.2-31.5, calendar p95 1.2-1.3 s instead of 2.0-2.1, confirm p95 1.5 s
# instead of 2.0-2.5; logins waited longer (p50 1.5-1.9 s instead of 1.1-1.5).
HASH_CONCURRENCY = 1

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)
# Verified against when the login is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("portail-famille-dummy-password")

_limiters: weakref.WeakKeyDictionary[AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def _limiter() -> anyio.CapacityLimiter:
    # One limiter per event loop (tests and the CLI may run several loops in one process).
    loop = get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASH_CONCURRENCY)
    return limiter


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_limiter())


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    """Verify in a worker thread (None: verify against a dummy hash, answer False)."""
    return await anyio.to_thread.run_sync(
        verify_password, stored_hash, password, limiter=_limiter()
    )
