"""Who is asking: the logged-in account and the family it consults, for every parent page."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException

from portal.domain.accounts import service as accounts
from portal.domain.accounts.service import FamilyChoice
from portal.domain.messages import service as messages
from portal.settings import Settings
from portal.tables import Account
from portal.web.sessions import mark_seen

NAV = [
    ("accueil", "Accueil", "/"),
    ("reservations", "Réservations", "/reservations"),
    ("historiques", "Historiques", "/historiques"),
    ("paiement", "Paiement et solde", "/paiement"),
    ("suivi", "Suivi", "/suivi"),
    ("dossier", "Mon dossier", "/dossier"),
    ("messages", "Messages", "/messages"),
    ("profil", "Profil", "/profil"),
]


class RedirectTo(HTTPException):
    """Stop here and send the browser elsewhere (303, or HX-Redirect for htmx)."""

    status_code = 303

    def __init__(self, location: str) -> None:
        super().__init__(detail=location)
        self.location = location


class LoginRequired(RedirectTo):
    pass


@dataclass(frozen=True)
class ParentContext:
    account: Account
    family: FamilyChoice
    families: list[FamilyChoice]
    layout: dict[str, Any] = field(default_factory=dict)
    # The family's booking-data versions read with the account, for a request that
    # writes no booking data (a GET, a tap): None when the request may write.
    scope_versions: tuple[int, int, int] | None = None

    @property
    def account_id(self) -> int:
        return int(self.account.id)

    @property
    def family_id(self) -> int:
        return self.family.family_id

    @property
    def structure_id(self) -> int:
        return self.family.structure_id


def session_expired(
    session: dict[str, Any], settings: Settings, now: float, *, staff: bool = False
) -> bool:
    """Past the idle or the absolute limit of its audience (parents, or staff)."""
    started = float(session.get("started_at", 0))
    seen = float(session.get("seen_at", 0))
    if staff:
        idle, absolute = settings.staff_session_idle_minutes, settings.staff_session_absolute_hours
    else:
        idle, absolute = settings.session_idle_minutes, settings.session_absolute_hours
    return now - started > absolute * 3600 or now - seen > idle * 60


def _login_url(request: Request[Any, Any, Any]) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request") and request.headers.get("hx-current-url"):
        target = "/"
    return "/connexion" if target == "/" else f"/connexion?suite={quote(target, safe='/')}"


def layout_for(
    account: Account, family: FamilyChoice, families: list[FamilyChoice]
) -> dict[str, Any]:
    last = family.last_transmission_at
    last_text = (
        last.astimezone(ZoneInfo(family.structure_timezone)).strftime("%d/%m/%Y à %H:%M")
        if last
        else None
    )
    return {
        "account_name": account.display_name,
        "family_id": family.family_id,
        "family_name": family.family_name,
        "structure_name": family.structure_name,
        "families": families,
        "last_update": last_text,
        "nav": [{"key": k, "label": label, "url": url} for k, label, url in NAV],
    }


async def load_parent(request: Request[Any, Any, Any]) -> ParentContext:
    """Dependency of every parent page: checks the session, the onboarding and the family."""
    settings: Settings = request.app.state.settings
    session = request.session
    account_id = session.get("account_id")
    now = time.time()
    if not account_id or session_expired(session, settings, now):
        if account_id:
            request.clear_session()
        raise LoginRequired(_login_url(request))
    try:
        account, families = await accounts.account_and_families(int(account_id))
    except accounts.NotFound:
        request.clear_session()
        raise LoginRequired("/connexion") from None
    if session.get("epoch", 0) != account.session_epoch:
        # The password changed (or was reset) since this session began.
        request.clear_session()
        raise LoginRequired("/connexion?etat=session-fermee")
    mark_seen(session, now)
    step = accounts.onboarding_step(account)
    if step and not request.route_handler.opt.get("onboarding"):
        raise RedirectTo(
            "/premiere-connexion/mot-de-passe"
            if step == "password"
            else "/premiere-connexion/conditions"
        )
    if not families:
        request.clear_session()
        raise HTTPException(
            status_code=403,
            detail="Ce compte n'est rattaché à aucune famille : contactez votre structure.",
        )
    wanted = session.get("family_id")
    family = next((f for f in families if f.family_id == wanted), families[0])
    session["family_id"] = family.family_id
    layout = layout_for(account, family, families)
    # The menu's unread count is drawn by whole pages only: an htmx fragment (a tap, the
    # board of another month) has no menu, and a tap is the opening rush's hottest request.
    full_page = not request.headers.get("hx-request") or request.headers.get("hx-boosted")
    unread = await messages.unread_for_family(family.family_id) if full_page else 0
    for item in layout["nav"]:
        item["badge"] = unread if item["key"] == "messages" else 0
    reads_only = request.method in ("GET", "HEAD") or bool(
        request.route_handler.opt.get("reads_only")
    )
    versions = family.scope_versions if reads_only else None
    return ParentContext(account, family, families, layout, versions)


# Handlers declare `parent: Parent` to receive the context from load_parent().
Parent = NamedDependency[ParentContext]
