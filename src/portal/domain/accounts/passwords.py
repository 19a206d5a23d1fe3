"""argon2id hashing, run in worker threads with a bounded number in flight.

Parameters: OWASP's current minimum for argon2id (19 MiB, 2 passes, 1 lane), about 25 ms of
CPU per hash on one core where the library defaults (64 MiB, t=3, p=4) cost about 180 ms.
Hashes made with other parameters are upgraded at the next successful login
(`needs_rehash`). A hash never runs on the event loop: `verify_password_async` and
`hash_password_async` hand it to the process's hashing thread, at most `HASH_CONCURRENCY` at
a time, so that a wave of logins queues for the CPU instead of stalling every other request.

That thread runs at a lower scheduling priority (nice +`HASH_NICENESS`, Linux schedules
threads one by one): when the cores are all busy, the event loops serving the parents
already in (their taps, calendars and confirmations) get the CPU first, and the logins
take what is left. A login is one wait of a few hundred milliseconds more; a tap that
waited behind a hash every time was the opening's slowest click.
"""

from __future__ import annotations

import os
import threading
from asyncio import get_running_loop
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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
# CFS weights: nice 0 against nice 10 is about 1024 to 110, so an event loop sharing a core
# with a hash gets about 90 % of it instead of half.
HASH_NICENESS = 10

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)
# Verified against when the login is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("portail-famille-dummy-password")

_executor: tuple[int, ThreadPoolExecutor] | None = None
_executor_lock = threading.Lock()
_T = TypeVar("_T")


def _lower_priority() -> None:
    # Raising one's own niceness needs no privilege; where threads cannot be told apart
    # (not Linux) the call would lower the whole process, so it is Linux only.
    if hasattr(os, "setpriority") and os.uname().sysname == "Linux":
        thread = threading.get_native_id()
        try:
            niceness = os.getpriority(os.PRIO_PROCESS, thread)
            os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness + HASH_NICENESS))
        except OSError:
            pass


def _hashing_executor() -> ThreadPoolExecutor:
    """The process's hashing threads (made again in a forked child, where threads are gone)."""
    global _executor
    with _executor_lock:
        if _executor is None or _executor[0] != os.getpid():
            _executor = (
                os.getpid(),
                ThreadPoolExecutor(
                    max_workers=HASH_CONCURRENCY,
                    thread_name_prefix="argon2",
                    initializer=_lower_priority,
                ),
            )
        return _executor[1]


async def _off_the_loop(function: Callable[..., _T], *args: object) -> _T:
    return await get_running_loop().run_in_executor(_hashing_executor(), function, *args)


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


async def hash_password_async(password: str) -> str:
    return await _off_the_loop(hash_password, password)


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    """Verify in a worker thread (None: verify against a dummy hash, answer False)."""
    return await _off_the_loop(verify_password, stored_hash, password)
