"""The embedded set-up's stores are swept of expired entries on a schedule: they drop one
only when it is read again, and most never are."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore

from portal.app import _sweep_expired


async def test_expired_entries_are_swept(tmp_path: Path) -> None:
    memory, files = MemoryStore(), FileStore(path=tmp_path)
    for store in (memory, files):
        await store.set("ended", b"x", expires_in=1)
        await store.set("kept", b"y", expires_in=600)
    # A stray file that is not a stored entry does not stop the sweep of the others.
    await anyio.Path(tmp_path / "0000-stray").write_bytes(b"not a storage object")
    await asyncio.sleep(1.1)
    sweeper = asyncio.get_running_loop().create_task(_sweep_expired([memory, files]))
    await asyncio.sleep(0.2)
    sweeper.cancel()
    # Looked at directly: reading an expired entry through the store would drop it too.
    left = sorted([p.name async for p in anyio.Path(tmp_path).iterdir()])
    assert len(left) == 2 and "0000-stray" in left
    assert await files.exists("kept")
    assert set(memory._store) == {"kept"}
