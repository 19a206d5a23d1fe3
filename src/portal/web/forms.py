"""Reading HTML form posts: the body types handlers declare, and lenient number parsing."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

# One value per field; a repeated field is refused by validation (400).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Fields that may repeat (checkboxes) arrive as lists.
MultiForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def int_or_none(value: Any) -> int | None:
    """The integer typed in a field, or None for anything else (empty, text, a list)."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
