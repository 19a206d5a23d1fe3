"""The staff side of a request: the staff session, the structure in the URL, the layout.

Every back-office page and action lives under /gestion/s/{structure id}/...: the `ctx`
dependency (`staff_context`) checks that the logged-in staff member manages that structure
and answers 404 otherwise, and each service function filters the ids it receives on that
same structure. The /admin gate uses `staff_from_session` too.
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
from litestar.params import FromPath

from portal import clock
from portal.domain.messages import service as messages
from portal.domain.staff import service as staff
from portal.domain.staff.service import Actor
from portal.settings import Settings
from portal.tables import StaffMember, Structure
from portal.web.context import RedirectTo, session_expired

Member = NamedDependency[StaffMember]

NAV = [
    ("tableau", "Tableau de bord", ""),
    ("activites", "Activités", "/activites"),
    ("periodes", "Périodes", "/periodes"),
    ("decisions", "Décisions", "/decisions"),
    ("presences", "Présences", "/presences"),
    ("cuisine", "Cuisine", "/cuisine"),
    ("statistiques", "Statistiques", "/statistiques"),
    ("tranches", "Tranches", "/tranches"),
    ("annee", "Nouvelle année", "/annee"),
    ("reglements", "Règlements", "/reglements"),
    ("actualites", "Actualités", "/actualites"),
    ("familles", "Familles", "/familles"),
    ("dossiers", "Dossiers", "/dossiers"),
    ("messages", "Messages", "/messages"),
    ("transmission", "Transmission", "/transmission"),
    ("regie", "Régie", "/regie"),
]
LOGIN_URL = "/gestion/connexion"
CODE_URL = "/gestion/connexion/code"
MFA_URL = "/gestion/profil/double-authentification"
# Route opt of the pages an administrator may see before enrolling a second factor.
MFA_SETUP = {"mfa_setup": True}


async def staff_from_session(
    session: dict[str, Any], settings: Settings, now: float
) -> StaffMember | None:
    """The staff member of a live session, or None (also used by the /admin gate)."""
    staff_id = session.get("staff_id")
    if not staff_id or session_expired(session, settings, now, staff=True):
        return None
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    # A password change since this session began ends it.
    if member is None or session.get("epoch", 0) != member.session_epoch:
        return None
    return member


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
    if (
        member.is_admin
        and not request.session.get("mfa")
        and not request.route_handler.opt.get("mfa_setup")
    ):
        # Administrators work only in a session that passed a second factor.
        raise RedirectTo(MFA_URL)
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
        return clock.zone(self.structure.timezone)

    @property
    def today(self) -> date:
        return clock.local_today(self.structure.timezone)

    @property
    def url(self) -> str:
        return base_url(self.sid)


def layout_for(
    member: StaffMember, structure: Structure, structures: list[Structure]
) -> dict[str, Any]:
    tz = clock.zone(structure.timezone)
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
    layout = layout_for(member, structure, structures)
    unread = await messages.unread_for_structure(int(structure.id))
    for item in layout["nav"]:
        item["badge"] = unread if item["key"] == "messages" else 0
    return StaffPage(member, structure, structures, layout)


async def staff_context(
    request: Request[Any, Any, Any], member: Member, sid: FromPath[int]
) -> StaffPage:
    """Dependency `ctx` of every /gestion/s/{sid}/... handler: the structure check, once.

    Declared with the app's dependencies, beside `member`; a handler that takes `ctx`
    never reaches its body for a structure its staff member does not manage (404).
    """
    return await staff_page(request, member, sid)


# A handler parameter `ctx: Staff` receives the checked StaffPage.
Staff = NamedDependency[StaffPage]
