"""The Dramatiq broker, set before any actor is declared (import this module first).

Redis when a broker URL is configured (PORTAL_BROKER_URL, else PORTAL_REDIS_URL), otherwise
an in-process StubBroker. Both carry `HostLoopAsyncIO`, which runs the `async def` actors on
one event loop per process: a dedicated loop thread in `portal worker`, or the web app's own
loop when the worker is embedded in `portal serve`. Running on the web loop is what lets
embedded actors use the web process's asyncpg pool, which is bound to the loop that created
it (Piccolo tables share one global engine).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, default_middleware

log = logging.getLogger(__name__)


class _HostLoop(EventLoopThread):
    """Dramatiq's event-loop handle for a loop that already runs elsewhere (no thread)."""

    def __init__(self, logger: Any, loop: asyncio.AbstractEventLoop) -> None:
        # EventLoopThread.__init__ would create a fresh loop; keep the host's instead.
        self.interrupt_check_ival = 0.1
        self.logger = logger
        self.loop = loop

    def start(self, *, timeout: float | None = None) -> None:  # pragma: no cover - unused
        return None

    def run_coroutine(self, coro: Any) -> Any:
        # The host loop may be stopped while a worker thread picks a message (between two
        # test runs of the loop, or at shutdown): close the actor's coroutine rather than
        # drop it unawaited; the message fails and is retried, and the minute sweep
        # enqueues due work again (the database is the source of truth).
        if self.loop.is_closed() or not self.loop.is_running():
            coro.close()
            raise RuntimeError("La boucle d'événements de l'hôte ne tourne pas.")
        return super().run_coroutine(coro)

    def stop(self) -> None:
        return None


class HostLoopAsyncIO(AsyncIO):
    """AsyncIO middleware that runs actors on a loop chosen by the process (`bind_loop`).

    Worker threads submit each actor's coroutine to that loop and wait for it, as with
    Dramatiq's own AsyncIO middleware; with no loop bound it starts its own loop thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self.host_loop: asyncio.AbstractEventLoop | None = None

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.host_loop is None:
            super().before_worker_boot(broker, worker)  # type: ignore[no-untyped-call]
        else:
            set_event_loop_thread(_HostLoop(self.logger, self.host_loop))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.host_loop is None:
            super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]
        else:
            set_event_loop_thread(None)


def _middleware() -> list[dramatiq.Middleware]:
    return [m() for m in default_middleware] + [HostLoopAsyncIO()]


def build_broker(url: str | None) -> dramatiq.Broker:
    """A Redis broker for `url`, or the in-process broker when `url` is None."""
    if url:
        # A bounded connect timeout: an unreachable Redis must not hang a web request.
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_keepalive=True)
        return RedisBroker(client=client, middleware=_middleware())  # type: ignore[no-untyped-call]
    return StubBroker(middleware=_middleware())


def _env_url() -> str | None:
    return os.environ.get("PORTAL_BROKER_URL") or os.environ.get("PORTAL_REDIS_URL") or None


_url: str | None = _env_url()
broker: dramatiq.Broker = build_broker(_url)
dramatiq.set_broker(broker)


def current() -> dramatiq.Broker:
    return broker


def current_url() -> str | None:
    return _url


def configure_broker(url: str | None) -> dramatiq.Broker:
    """Use the broker for `url` (settings that differ from the environment, tests).

    The actors already declared move to the new broker; nothing happens when the URL is
    the one in use.
    """
    global broker, _url
    if url == _url:
        return broker
    previous, broker, _url = broker, build_broker(url), url
    for actor in list(previous.actors.values()):
        actor.broker = broker
        broker.declare_actor(actor)
    dramatiq.set_broker(broker)
    previous.close()
    return broker


async def enqueue(actor: dramatiq.Actor[Any, Any], *args: Any) -> bool:
    """Send a message; False (logged) when the broker cannot be reached. Never raises."""
    try:
        await asyncio.to_thread(actor.send, *args)
    except Exception as exc:  # any broker failure: the database still holds the work
        log.warning(
            "file de tâches injoignable (%s) : %s%r non envoyé, le balayage s'en chargera",
            exc,
            actor.actor_name,
            args,
        )
        return False
    return True


def bind_loop(loop: asyncio.AbstractEventLoop | None, on: dramatiq.Broker | None = None) -> None:
    """Run async actors of workers started from now on `loop` (None: their own thread)."""
    for middleware in (on or broker).middleware:
        if isinstance(middleware, HostLoopAsyncIO):
            middleware.host_loop = loop
