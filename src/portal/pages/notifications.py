"""Profile « Notifications »: saving the channels the parent chooses per kind and the
reminder lead time, and this browser's web-push subscription (sent by static/family.js)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post
from litestar.response import Redirect, Template

from portal.domain.accounts.rules import describe_device
from portal.domain.channels import rules
from portal.domain.channels import service as channels
from portal.domain.push import rules as push_rules
from portal.domain.push import service as push
from portal.pages.profile import _profile
from portal.web.context import Parent
from portal.web.forms import Form
from portal.web.render import flash, see_other

MAX_SUBSCRIPTION_BYTES = 4096


@post("/profil/notifications")
async def save_notifications(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    try:
        lead = rules.parse_lead_hours(data.get("delai_rappel"))
    except rules.ChoiceError as exc:
        return await _profile(request, parent, status_code=400, notification_errors=[str(exc)])
    await channels.save_choices(parent.account_id, rules.choices_from_form(data), lead)
    flash(request, "Vos choix de notifications ont été enregistrés.")
    return see_other("/profil#notifications-title")


async def _json_body(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_SUBSCRIPTION_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _problem(message: str) -> Response[dict[str, str]]:
    return Response({"erreur": message}, status_code=400)


@post("/notifications/abonnement", status_code=201)
async def subscribe(request: Request[Any, Any, Any], parent: Parent) -> Response[dict[str, str]]:
    """This browser's PushSubscription (JSON), for the logged-in account."""
    try:
        subscription = push_rules.parse_subscription(await _json_body(request))
    except push_rules.SubscriptionError as exc:
        return _problem(str(exc))
    device = describe_device(request.headers.get("user-agent", ""))
    await push.subscribe(parent.account_id, subscription, device)
    return Response({"etat": "abonné"}, status_code=201)


@post("/notifications/desabonnement", status_code=200)
async def unsubscribe(request: Request[Any, Any, Any], parent: Parent) -> Response[dict[str, str]]:
    body = await _json_body(request)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > push_rules.MAX_ENDPOINT:
        return _problem("Abonnement aux notifications illisible.")
    gone = await push.unsubscribe(parent.account_id, endpoint)
    return Response({"etat": "désabonné" if gone else "inconnu"}, status_code=200)


ROUTES = [save_notifications, subscribe, unsubscribe]
