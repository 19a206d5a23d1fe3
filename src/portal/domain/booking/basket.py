"""The draft basket: plain, JSON-serialisable values kept in the server-side session.

Taps change the basket, never the register; applying it is service.apply_basket().
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from portal.domain.booking.states import DraftAction

MAX_ITEMS = 400  # a whole term of several activities for several children, with margin


@dataclass(frozen=True)
class BasketItem:
    person_id: int
    activity_id: int
    activity_day_id: int
    day: date
    action: DraftAction
    arrival: time | None = None
    departure: time | None = None

    @property
    def key(self) -> str:
        return item_key(self.person_id, self.activity_day_id)

    def to_json(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict(): the whole basket is written back to the
        # session on every tap, and asdict's deep copy was a tenth of a tap's CPU.
        return {
            "person_id": self.person_id,
            "activity_id": self.activity_id,
            "activity_day_id": self.activity_day_id,
            "day": self.day.isoformat(),
            "action": self.action.value,
            "arrival": self.arrival.strftime("%H:%M") if self.arrival else None,
            "departure": self.departure.strftime("%H:%M") if self.departure else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BasketItem:
        return cls(
            person_id=int(data["person_id"]),
            activity_id=int(data["activity_id"]),
            activity_day_id=int(data["activity_day_id"]),
            day=date.fromisoformat(data["day"]),
            action=DraftAction(data["action"]),
            arrival=time.fromisoformat(data["arrival"]) if data.get("arrival") else None,
            departure=time.fromisoformat(data["departure"]) if data.get("departure") else None,
        )


def item_key(person_id: int, activity_day_id: int) -> str:
    return f"{person_id}:{activity_day_id}"


class BasketFull(ValueError):
    """Too many drafts at once."""


class Basket:
    """Drafts of one family, keyed by person and activity day."""

    def __init__(self, items: Iterable[BasketItem] = ()) -> None:
        self._items: dict[str, BasketItem] = {item.key: item for item in items}

    @classmethod
    def from_session(cls, raw: Any) -> Basket:
        items = []
        for value in raw.values() if isinstance(raw, dict) else []:
            try:
                items.append(BasketItem.from_json(value))
            except (KeyError, TypeError, ValueError):
                continue  # a malformed entry (old format) is dropped, never fatal
        return cls(items)

    def to_session(self) -> dict[str, dict[str, Any]]:
        return {key: item.to_json() for key, item in self._items.items()}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Any:
        return iter(sorted(self._items.values(), key=lambda i: (i.day, i.person_id, i.activity_id)))

    def get(self, person_id: int, activity_day_id: int) -> BasketItem | None:
        return self._items.get(item_key(person_id, activity_day_id))

    def put(self, item: BasketItem) -> None:
        if item.key not in self._items and len(self._items) >= MAX_ITEMS:
            raise BasketFull(
                f"Le panier est limité à {MAX_ITEMS} demandes : validez-le avant d'en ajouter."
            )
        self._items[item.key] = item

    def remove(self, person_id: int, activity_day_id: int) -> None:
        self._items.pop(item_key(person_id, activity_day_id), None)

    def clear(self) -> None:
        self._items.clear()

    def drafts_for(self, person_id: int, activity_id: int) -> dict[date, DraftAction]:
        return {
            i.day: i.action
            for i in self._items.values()
            if i.person_id == person_id and i.activity_id == activity_id
        }

    def bookings(self) -> list[BasketItem]:
        return [i for i in self if i.action is DraftAction.BOOK]

    def cancellations(self) -> list[BasketItem]:
        return [i for i in self if i.action is DraftAction.CANCEL]
