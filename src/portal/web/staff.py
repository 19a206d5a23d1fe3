"""The staff side of a request: the staff session, the structure in the URL, the layout.

Every back-office page and action lives under /gestion/s/{structure id}/...: the `ctx`
dependency (`staff_context`) checks that the logged-in staff member manages that structure
and answers 404 otherwise, and each service function filters the ids it receives on that
same structure. It also checks the role: each such route declares the roles it accepts
(`opt=allow(...)`, see portal.domain.staff.roles) and a member without one of them gets the
French 403 page; a route that declares nothing is refused to everyone but administrators
(fail closed). The /admin gate uses `staff_from_session` too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar, Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from portal import clock
from portal.domain.messages import service as messages
from portal.domain.staff import service as staff
from portal.domain.staff.accounts import roles_in
from portal.domain.staff.roles import (
    ADMINISTRATION,
    ANY_STAFF,
    DENIED,
    MONEY_READ,
    OPERATIONS_READ,
    Role,
    allowed,
)
from portal.domain.staff.service import Actor
from portal.settings import Settings
from portal.tables import StaffMember, Structure
from portal.web.context import RedirectTo, session_expired
from portal.web.sessions import mark_seen

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
    ("journal", "Journal", "/journal"),
]
LOGIN_URL = "/gestion/connexion"
CODE_URL = "/gestion/connexion/code"
MFA_URL = "/gestion/profil/double-authentification"
# Route opt of the pages an administrator may see before enrolling a second factor.
MFA_SETUP = {"mfa_setup": True}
# Route opt of the own-account actions open before an initial password is replaced.
OWN_ACCOUNT = {"own_account": True}
PROFILE_URL = "/gestion/profil"
ROLES_OPT = "staff_roles"


def allow(roles: frozenset[Role]) -> dict[str, Any]:
    """Route opt: the roles (any one of them) a /gestion/s/{sid}/... handler accepts."""
    return {ROLES_OPT: roles}


# The roles that see each menu entry (the page's own check is what protects it); entries
# added without one here show to everyone and answer 403 to whoever lacks the role.
NAV_ROLES: dict[str, frozenset[Role]] = {
    "tableau": ANY_STAFF,
    "activites": OPERATIONS_READ,
    "decisions": OPERATIONS_READ,
    "presences": OPERATIONS_READ,
    "reglements": MONEY_READ,
    "actualites": OPERATIONS_READ,
    "familles": ANY_STAFF,
    "dossiers": OPERATIONS_READ,
    "transmission": ANY_STAFF,
    "regie": MONEY_READ,
    "journal": ANY_STAFF,
}


async def staff_from_session(
    session: dict[str, Any], settings: Settings, now: float
) -> StaffMember | None:
    """The staff member of a live session, or None (also used by the /admin gate)."""
    staff_id = session.get("staff_id")
    if not staff_id or session_expired(session, settings, now, staff=True):
        return None
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    # A password change since this session began ends it, and so does disabling the account.
    if member is None or session.get("epoch", 0) != member.session_epoch:
        return None
    if member.disabled_at is not None:
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
    mark_seen(request.session, now)
    if (
        member.is_admin
        and not request.session.get("mfa")
        and not request.route_handler.opt.get("mfa_setup")
    ):
        # Administrators work only in a session that passed a second factor.
        raise RedirectTo(MFA_URL)
    opt = request.route_handler.opt
    if member.must_change_password and not (opt.get("mfa_setup") or opt.get("own_account")):
        # An initial password given by an administrator is replaced before any work.
        raise RedirectTo(PROFILE_URL)
    needed = opt.get(ROLES_OPT)
    if isinstance(needed, frozenset) and "sid" not in request.path_params:
        # Account-wide pages (staff accounts, the global journal): the administrator role.
        if not allowed(frozenset(Role) if member.is_admin else frozenset(), needed):
            raise PermissionDeniedException(DENIED)
    return member


def base_url(structure_id: int) -> str:
    return f"/gestion/s/{structure_id}"


@dataclass(frozen=True)
class StaffPage:
    member: StaffMember
    structure: Structure
    structures: list[Structure]
    layout: dict[str, Any] = field(default_factory=dict)
    roles: frozenset[Role] = frozenset()

    def can(self, *roles: Role) -> bool:
        """Whether the member holds one of these roles here (templates hide what they cannot)."""
        return allowed(self.roles, frozenset(roles))

    def can_open(self, app: Litestar, url: str) -> bool:
        """Whether the member may GET this back-office URL: the roles its route declares,
        read from the route itself (the guard `load_staff_page` applies), so that a link
        built far from the page is shown only to who can follow it."""
        try:
            route = app.asgi_router.handle_routing(path=url.split("?")[0], method="GET")
        except Exception:  # no such page (NotFound, MethodNotAllowed)
            return False
        needed = route[1].opt.get(ROLES_OPT)
        return allowed(self.roles, needed if isinstance(needed, frozenset) else ADMINISTRATION)

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
    member: StaffMember,
    structure: Structure,
    structures: list[Structure],
    roles: frozenset[Role] | None = None,
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
            if roles is None or allowed(roles, NAV_ROLES.get(key, ANY_STAFF))
        ],
        "can_manage_staff": roles is not None and allowed(roles, ADMINISTRATION),
    }


async def account_layout(
    request: Request[Any, Any, Any], member: StaffMember
) -> dict[str, Any] | None:
    """The header of the structure last used (or the first one), for account-wide pages."""
    ids = await staff.structure_ids(member)
    if not ids:
        return None
    last = request.session.get("staff_structure_id")
    ctx = await staff_page(request, member, int(last) if last in ids else ids[0])
    return ctx.layout


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
    roles = await roles_in(member, int(structure.id))
    layout = layout_for(member, structure, structures, roles)
    unread = await messages.unread_for_structure(int(structure.id))
    for item in layout["nav"]:
        item["badge"] = unread if item["key"] == "messages" else 0
    return StaffPage(member, structure, structures, layout, roles)


async def staff_context(
    request: Request[Any, Any, Any], member: Member, sid: FromPath[int]
) -> StaffPage:
    """Dependency `ctx` of every /gestion/s/{sid}/... handler: the structure check, once.

    Declared with the app's dependencies, beside `member`; a handler that takes `ctx`
    never reaches its body for a structure its staff member does not manage (404), nor
    without one of the roles its route declares (403).
    """
    ctx = await staff_page(request, member, sid)
    needed = request.route_handler.opt.get(ROLES_OPT)
    if not allowed(ctx.roles, needed if isinstance(needed, frozenset) else ADMINISTRATION):
        raise PermissionDeniedException(DENIED)
    return ctx


# A handler parameter `ctx: Staff` receives the checked StaffPage.
Staff = NamedDependency[StaffPage]
