"""How this process runs background work: settings, enqueueing, embedded or worker mode.

- Embedded (`portal serve` without a broker URL): the web app's startup starts a Dramatiq
  Worker on the in-process broker whose actors run on the web's own event loop (so they
  share its database pool, SQLite or PostgreSQL), and the scheduler as a task of that loop.
- Redis: `portal worker` processes (own engine, pool started on their actor loop) and one
  `portal scheduler`; the web processes only enqueue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading

import dramatiq

from portal.context import use_settings
from portal.settings import Settings
from portal.tasks import broker as brokers

log = logging.getLogger(__name__)

_booted: set[int] = set()


def load_actors() -> None:
    """Declare every actor on the current broker (a worker must know them all)."""
    import portal.tasks.deadline_reminders
    import portal.tasks.kitchen
    import portal.tasks.outbox
    import portal.tasks.periods
    import portal.tasks.push
    import portal.tasks.reminders
    import portal.tasks.statements
    import portal.tasks.transmission  # noqa: F401


def _boot_process(broker: dramatiq.Broker) -> None:
    # Starts the TimeLimit watchdog; Dramatiq's own CLI does this once per process.
    if id(broker) not in _booted:
        _booted.add(id(broker))
        broker.emit_after("process_boot")


def start_worker(
    loop: asyncio.AbstractEventLoop | None, *, threads: int, timeout_ms: int = 1000
) -> dramatiq.Worker:
    """A started Worker on the current broker, running async actors on `loop`."""
    load_actors()
    broker = brokers.current()
    brokers.bind_loop(loop, on=broker)
    _boot_process(broker)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=timeout_ms)
    worker.start()
    return worker


def stop_worker(worker: dramatiq.Worker) -> None:
    """Stop (blocking: call it off the actors' loop) and forget the worker's hooks."""
    worker.stop(timeout=60_000)
    broker = worker.broker
    # Worker.start() registers a middleware that would keep starting consumers for this
    # dead worker whenever a queue is declared later.
    broker.middleware[:] = [
        m for m in broker.middleware if getattr(m, "worker", None) is not worker
    ]
    brokers.bind_loop(None)


class BackgroundRuntime:
    """The background side of one web app: configures the broker, and in embedded mode
    runs the worker and the scheduler inside the app's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        use_settings(settings)
        brokers.configure_broker(settings.broker_url)
        load_actors()
        self.worker: dramatiq.Worker | None = None
        self.scheduler_task: asyncio.Task[None] | None = None

    @property
    def embedded(self) -> bool:
        return self.settings.broker_url is None and self.settings.embedded_worker

    async def start(self) -> None:
        use_settings(self.settings)
        if not self.embedded:
            return
        from portal.tasks.scheduler import Scheduler

        self.worker = start_worker(asyncio.get_running_loop(), threads=2, timeout_ms=100)
        self.scheduler_task = asyncio.create_task(Scheduler().run(), name="portal-scheduler")

    async def stop(self) -> None:
        if self.scheduler_task is not None:
            self.scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.scheduler_task
            self.scheduler_task = None
        if self.worker is not None:
            # In a thread: running actors need this loop to finish.
            await asyncio.to_thread(stop_worker, self.worker)
            self.worker = None


def run_worker(settings: Settings, *, threads: int) -> None:
    """`portal worker`: consume the Redis queues until SIGTERM or SIGINT."""
    from dramatiq.asyncio import EventLoopThread

    from portal.db import check_connection, close_pool, make_engine, start_pool, use_engine

    use_settings(settings)
    brokers.configure_broker(settings.broker_url)
    engine = make_engine(settings)
    use_engine(engine)
    # The pool belongs to the loop that runs the actors, so it is started there.
    loop_thread = EventLoopThread(log)
    loop_thread.start(timeout=10)
    stopping = threading.Event()
    try:
        loop_thread.run_coroutine(check_connection(engine))
        loop_thread.run_coroutine(start_pool(engine))
        worker = start_worker(loop_thread.loop, threads=threads)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        log.info("worker démarré (%d fils) sur %s", threads, settings.broker_url)
        while not stopping.wait(1):
            pass
        log.info("arrêt du worker...")
        stop_worker(worker)
        loop_thread.run_coroutine(close_pool(engine))
    finally:
        loop_thread.stop()  # type: ignore[no-untyped-call]


async def run_scheduler(settings: Settings, *, once: bool = False) -> None:
    """`portal scheduler`: the sweep, at start and every minute (or once)."""
    from portal.tasks.scheduler import Scheduler

    use_settings(settings)
    brokers.configure_broker(settings.broker_url)
    load_actors()
    scheduler = Scheduler()
    if once:
        result = await scheduler.sweep()
        log.info("sweep : relais %s, transmissions %s", result.relay, list(result.structures))
        return
    await scheduler.run()
