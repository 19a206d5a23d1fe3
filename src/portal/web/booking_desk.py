"""Where a booking calendar is used from: the parent's own pages, or a clerk's for a family.

The booking pages and their fragments (portal.pages.booking) take a desk instead of the parent:
it says which family's basket and scope they show, under which URLs, in which layout, and
who books (the parent, or the structure with the override its clerk chose). The templates
read the URLs from the desk's context, so both sides share one set of templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.domain.booking.on_behalf import NO_OVERRIDE, Booker, Override
from portal.domain.booking.scope import BookingScope, load_scope
from portal.web.context import ParentContext

PARENT_URL = "/reservations"


@dataclass(frozen=True)
class BookingDesk:
    family_id: int
    url: str  # the calendar page; every booking page is below it (htmx: web/htmx.py)
    booker: Booker = Booker.PARENT
    override: Override = NO_OVERRIDE
    override_reason: str = ""
    base_template: str = "base.html"
    # The staff side: the family's name and page, to show whom the clerk books for.
    family_name: str = ""
    family_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Versions already read by this request, which writes no booking data (ParentContext).
    scope_versions: tuple[int, int, int] | None = None
    # A clerk without health access: health documents are not named (BookingScope.acting).
    health_sealed: bool = False

    @property
    def by_structure(self) -> bool:
        return self.booker is Booker.STAFF

    async def scope(self) -> BookingScope:
        scope = await load_scope(self.family_id, self.scope_versions)
        return scope.acting(self.booker, self.override, health_sealed=self.health_sealed)

    def template_context(self) -> dict[str, Any]:
        return {
            "book_url": self.url,
            "booking_base": self.base_template,
            "desk": self,
        }


def parent_desk(parent: ParentContext) -> BookingDesk:
    return BookingDesk(
        family_id=parent.family_id, url=PARENT_URL, scope_versions=parent.scope_versions
    )


# Defaults of the templates (Jinja globals): the parent's URLs when a context has none.
TEMPLATE_DEFAULTS = {
    "book_url": PARENT_URL,
    "booking_base": "base.html",
    "desk": None,
}
