"""Building each e-mail (subject, plain text, HTML) and queueing the immediate ones."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal import context
from portal.domain.channels import service as channels
from portal.domain.channels.rules import Kind
from portal.domain.outbox.service import queue_email
from portal.domain.push import service as push
from portal.domain.reservation_status import MovementKind
from portal.domain.transmission import rules
from portal.settings import Settings
from portal.tables import Movement

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Plain-text parts are not escaped; HTML parts are.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        # Templates ship with the code: no stat() of each file per e-mail rendered.
        auto_reload=False,
    )


def render_email(name: str, **context: Any) -> RenderedEmail:
    """templates/email/<name>/{subject.txt, body.txt, body.html} rendered with `context`."""
    env = _environment()
    subject = " ".join(env.get_template(f"{name}/subject.txt").render(**context).split())
    return RenderedEmail(
        subject=subject,
        text=env.get_template(f"{name}/body.txt").render(**context),
        html=env.get_template(f"{name}/body.html").render(subject=subject, **context),
    )


def portal_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/"


def report_email(
    report: rules.FamilyReport, *, family_name: str, structure_name: str, base_url: str
) -> RenderedEmail:
    """A family's nightly report, in the seed's layout."""
    return render_email(
        "nightly_report",
        report=report,
        family_name=family_name,
        structure_name=structure_name,
        portal_url=portal_url(base_url),
    )


def password_reset_email(display_name: str, link: str, valid_minutes: int) -> RenderedEmail:
    return render_email(
        "password_reset",
        display_name=display_name,
        link=link,
        valid_minutes=valid_minutes,
        structure_name="",
        portal_url=link.split("/reinitialiser/")[0] + "/",
    )


async def family_addresses(family_ids: Iterable[int], kind: Kind | None) -> dict[int, list[str]]:
    """The addresses to e-mail about `kind` for each family: every e-mail of every account
    that left e-mail on for that kind (its profile's « Notifications »), in account order,
    without repeats. `kind=None`: every address (e-mails a family cannot turn off)."""
    found = await channels.recipients(family_ids, kind)
    return {family_id: channels.addresses_of(people) for family_id, people in found.items()}


async def queue_promotion_emails(
    movement_ids: list[int], *, settings: Settings | None = None
) -> int:
    """Queue "Bonne nouvelle" for each promotion movement, in the caller's transaction.

    One e-mail per movement (dedupe key `promotion:{movement_id}`) to every address of the
    family's accounts; returns how many were queued. The relay is woken after the
    caller's commit (`queue_email` registers it on the transaction).
    """
    if not movement_ids:
        return 0
    settings = settings or context.current_settings()
    rows = await (
        Movement.select(
            Movement.id,
            Movement.family,
            Movement.family.name,
            Movement.family._.structure.name,
            Movement.reservation._.person.first_name,
            Movement.reservation._.activity_day.day,
            Movement.reservation._.activity_day._.activity.name,
        )
        .where(Movement.id.is_in(list(movement_ids)) & (Movement.kind == MovementKind.PROMOTION))
        .order_by(Movement.id)
        .output(nested=False)
    )
    addresses = await family_addresses((int(r["family"]) for r in rows), Kind.WAITLIST_ACCEPTED)
    queued = 0
    for row in rows:
        day = rules.short_date(row["reservation.activity_day.day"])
        await push.queue_push(
            Kind.WAITLIST_ACCEPTED,
            int(row["family"]),
            f"promotion:{row['id']}",
            "Place obtenue sur liste d'attente",
            f"{row['reservation.person.first_name']} :"
            f" {row['reservation.activity_day.activity.name']} le {day} est acceptée.",
            "/suivi",
        )
        to = addresses[int(row["family"])]
        if not to:
            log.info("promotion %s : la famille n'a pas d'adresse e-mail", row["id"])
            continue
        email = render_email(
            "promotion",
            family_name=row["family.name"],
            structure_name=row["family.structure.name"],
            first_name=row["reservation.person.first_name"],
            activity=row["reservation.activity_day.activity.name"],
            day=rules.short_date(row["reservation.activity_day.day"]),
            portal_url=portal_url(settings.base_url),
        )
        if await queue_email(f"promotion:{row['id']}", to, email.subject, email.text, email.html):
            queued += 1
    return queued
