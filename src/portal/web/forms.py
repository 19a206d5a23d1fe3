"""Reading HTML form posts and URLs: the body types handlers declare, and bounded integers.

Every integer the portal reads from a request (path parameters, form fields, query
strings) is an identifier, a count or a year: it fits the database's 32-bit INTEGER
columns. Larger values (``/gestion/s/9223372036854775808``) would make the drivers raise
(asyncpg's int32 range, SQLite's int64) and end in a 500; they are refused here instead,
in one place: ``int_or_none`` for fields, ``bounded_path_params`` (an application guard)
for path parameters.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body

from portal.domain.numbers import MAX_INT, parse_int

# One value per field; a repeated field is refused by validation (400).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Fields that may repeat (checkboxes) arrive as lists.
MultiForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def int_or_none(value: Any) -> int | None:
    """The integer typed in a field, or None for anything else (empty, text, a list, a
    number beyond the database's integers, non-ASCII digits, "1_000")."""
    return parse_int(value)


async def bounded_path_params(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: a path parameter that names nothing is a French 404 before any handler runs:
    an integer outside 0..MAX_INT; a text with a NUL byte or a part longer than a file
    name may be (file APIs raise on both).

    Async although it awaits nothing: Litestar runs a plain function guard in a worker
    thread, and this one runs on every request of the application (a thread hop each)."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_INT:
            raise NotFoundException("Cette page n'existe pas ou n'est pas accessible.")
        text = str(value)
        if "\x00" in text or any(len(part.encode()) > 255 for part in text.split("/")):
            raise NotFoundException("Cette page n'existe pas ou n'est pas accessible.")
