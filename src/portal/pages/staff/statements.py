"""The régie's choice to e-mail every family its monthly statement on the 1st."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Redirect

from portal.domain.staff.roles import MONEY
from portal.domain.statements import service as statements
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff


@post("/gestion/s/{sid:int}/regie/releves-par-email", opt=allow(MONEY))
async def save_statement_mailing(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Redirect:
    enabled = str(data.get("envoyer") or "") == "1"
    await statements.save_mail_setting(ctx.actor, ctx.sid, enabled)
    flash(
        request,
        "Les relevés de compte seront envoyés par e-mail le 1er de chaque mois."
        if enabled
        else "Les relevés de compte ne sont plus envoyés par e-mail.",
    )
    return see_other(f"{ctx.url}/regie#releves-email")


ROUTES = [save_statement_mailing]
