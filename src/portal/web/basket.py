"""The draft basket in the server-side session, one per family (so per structure)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.domain.booking.basket import Basket


def load_basket(request: Request[Any, Any, Any], family_id: int) -> Basket:
    return Basket.from_session(request.session.get("baskets", {}).get(str(family_id)))


def save_basket(request: Request[Any, Any, Any], family_id: int, basket: Basket) -> None:
    baskets = dict(request.session.get("baskets", {}))
    if len(basket):
        baskets[str(family_id)] = basket.to_session()
    else:
        baskets.pop(str(family_id), None)
    request.session["baskets"] = baskets
