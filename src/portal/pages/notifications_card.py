"""What the profile's « Notifications » card shows (the profile page includes it)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.domain.channels import rules
from portal.domain.channels import service as channels
from portal.domain.push import service as push
from portal.domain.push.keys import vapid_keys
from portal.settings import Settings
from portal.web.context import Parent


async def notifications_context(request: Request[Any, Any, Any], parent: Parent) -> dict[str, Any]:
    """What the profile's « Notifications » card shows."""
    settings: Settings = request.app.state.settings
    lead = (await channels.lead_hours([parent.account_id]))[parent.account_id]
    return {
        "notification_choices": await channels.account_choices(parent.account_id),
        "notification_field": rules.field_name,
        "notification_lead": lead,
        "notification_leads": [(h, rules.describe_lead(h)) for h in rules.LEAD_HOURS],
        "push_devices": await push.subscription_count(parent.account_id),
        "vapid_public_key": vapid_keys(settings).public_key,
    }
