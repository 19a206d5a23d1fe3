"""Server-side sessions whose id is renewed at login (no session fixation)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

ROTATE_FLAG = "portal.rotate_session"
NEW_ID = "portal.new_session_id"


def request_session_rotation(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Ask for a new session id on the way out (the old id's data is deleted)."""
    connection.scope["state"][ROTATE_FLAG] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        if not connection.cookies.get(self.config.key):
            # The session is written on the way out, after the response has started, when an
            # outage can only end in a broken reply; touching the store now lets the error
            # page say clearly that the service is unavailable.
            store = self.config.get_store_from_app(connection.scope["app"])
            await store.exists("portal:availability")
        return await super().load_from_connection(connection)

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope["state"].get(NEW_ID)
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        state = connection.scope["state"]
        if state.get(ROTATE_FLAG) and scope_session is not Empty:
            old_id = connection.cookies.get(self.config.key)
            if old_id:
                store = self.config.get_store_from_app(connection.scope["app"])
                await self.delete(old_id, store=store)
            state[NEW_ID] = self.generate_session_id()
            state[ROTATE_FLAG] = False
        await super().store_in_message(scope_session, message, connection)


class PortalSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
