"""The parent's low-balance alert threshold (Profil)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.response import Redirect, Template

from portal.domain.money import rules as money_rules
from portal.domain.reminders import service as reminders
from portal.pages.profile import _profile
from portal.web.context import Parent
from portal.web.forms import Form
from portal.web.render import flash, see_other


@post("/profil/alerte-solde")
async def save_threshold(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    try:
        cents = money_rules.parse_amount_cents(str(data.get("seuil") or ""), blank=0)
        await reminders.set_threshold(parent.family_id, cents)
    except money_rules.AmountError as exc:
        return await _profile(request, parent, status_code=400, balance_errors=[str(exc)])
    flash(request, "Seuil d'alerte de solde bas enregistré.")
    return see_other("/profil#alerte-solde")


ROUTES = [save_threshold]
