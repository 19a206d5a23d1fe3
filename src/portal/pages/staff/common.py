"""What every back-office page shares: the staff session, the structure in the URL, the layout.

Every page and action lives under /gestion/s/{structure id}/...: `staff_page()` checks that
the logged-in staff member manages that structure and answers 404 otherwise, and each
service function filters the ids it receives on that same structure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal import clock
from portal.domain.staff import service as staff
from portal.domain.staff.service import Actor
from portal.settings import Settings
from portal.tables import StaffMember, Structure
from portal.web.context import RedirectTo, session_expired
from portal.web.render import page

Member = NamedDependency[StaffMember]

NAV = [
    ("tableau", "Tableau de bord", ""),
    ("activites", "Activités", "/activites"),
    ("decisions", "Décisions", "/decisions"),
    ("presences", "Présences", "/presences"),
    ("reglements", "Règlements", "/reglements"),
    ("actualites", "Actualités", "/actualites"),
    ("familles", "Familles", "/familles"),
    ("transmission", "Transmission", "/transmission"),
    ("regie", "Régie", "/regie"),
]
LOGIN_URL = "/gestion/connexion"


async def staff_from_session(
    session: dict[str, Any], settings: Settings, now: float
) -> StaffMember | None:
    """The staff member of a live session, or None (also used by the /admin gate)."""
    staff_id = session.get("staff_id")
    if not staff_id or session_expired(session, settings, now):
        return None
    return await StaffMember.objects().where(StaffMember.id == staff_id).first()


async def load_staff(request: Request[Any, Any, Any]) -> StaffMember:
    """Dependency `member` of every back-office handler: a logged-in staff member."""
    settings: Settings = request.app.state.settings
    now = time.time()
    member = await staff_from_session(request.session, settings, now)
    if member is None:
        if request.session.get("staff_id"):
            request.clear_session()
        raise RedirectTo(LOGIN_URL)
    request.session["seen_at"] = now
    return member


def base_url(structure_id: int) -> str:
    return f"/gestion/s/{structure_id}"


@dataclass(frozen=True)
class StaffPage:
    member: StaffMember
    structure: Structure
    structures: list[Structure]
    layout: dict[str, Any] = field(default_factory=dict)

    @property
    def sid(self) -> int:
        return int(self.structure.id)

    @property
    def actor(self) -> Actor:
        return Actor.of(self.member)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.structure.timezone or "Europe/Paris")

    @property
    def today(self) -> date:
        return clock.local_today(self.structure.timezone or "Europe/Paris")

    @property
    def url(self) -> str:
        return base_url(self.sid)


def layout_for(
    member: StaffMember, structure: Structure, structures: list[Structure]
) -> dict[str, Any]:
    tz = ZoneInfo(structure.timezone or "Europe/Paris")
    last = structure.last_transmission_at
    return {
        "member_name": member.display_name,
        "is_admin": member.is_admin,
        "structure_id": structure.id,
        "structure_name": structure.name,
        "structures": structures,
        "last_update": last.astimezone(tz).strftime("%d/%m/%Y à %H:%M") if last else None,
        "nav": [
            {"key": key, "label": label, "url": base_url(int(structure.id)) + suffix}
            for key, label, suffix in NAV
        ],
    }


async def staff_page(request: Request[Any, Any, Any], member: StaffMember, sid: int) -> StaffPage:
    """The structure of the URL, if this staff member manages it; 404 otherwise."""
    try:
        structure = await staff.structure_for(member, sid)
    except staff.NotFound:
        raise NotFoundException(
            "Cette structure n'existe pas ou ne vous est pas rattachée."
        ) from None
    structures = await staff.managed_structures(member)
    request.session["staff_structure_id"] = structure.id
    return StaffPage(member, structure, structures, layout_for(member, structure, structures))


def not_found(what: str = "Cette page") -> NotFoundException:
    return NotFoundException(f"{what} n'existe pas ou n'appartient pas à cette structure.")


def render(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    template: str,
    *,
    title: str,
    nav: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return page(
        request,
        template,
        status_code=status_code,
        layout=ctx.layout,
        page_title=title,
        nav_active=nav,
        base=ctx.url,
        ctx=ctx,
        **context,
    )


def values(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a field that may repeat (checkboxes)."""
    raw = data.get(name, [])
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [str(raw)] if raw not in (None, "") else []


def shift_month(year: int, month: int, delta: int) -> str:
    index = year * 12 + month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def redirect_to_structure(sid: int) -> RedirectTo:
    return RedirectTo(base_url(sid))
