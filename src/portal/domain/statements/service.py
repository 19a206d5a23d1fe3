"""Monthly statements e-mailed on the 1st: the structure's choice, which structures are
due, and the mailing itself (one outbox e-mail per family and wallet with movements in the
month: opening and closing balance, and a link to the PDF, which stays behind the login).

The amounts are those of the PDF: both come from portal.domain.papers.statement_paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.money.rules import Month
from portal.domain.money_format import format_euros
from portal.domain.notifications.service import family_addresses, render_email
from portal.domain.outbox.service import QueuedEmail, queue_emails
from portal.domain.papers import service as papers
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.domain.statements import rules
from portal.tables import LedgerEntry, StatementMailSettings, Structure


class NotFound(errors.NotFound):
    """No such structure."""


@dataclass(frozen=True)
class MailSetting:
    enabled: bool
    last_month: str  # "2026-11", or "" before the first mailing


async def mail_setting(structure_id: int) -> MailSetting:
    row = (
        await StatementMailSettings.select(
            StatementMailSettings.enabled, StatementMailSettings.last_month
        )
        .where(StatementMailSettings.structure == structure_id)
        .first()
    )
    if row is None:
        return MailSetting(False, "")
    return MailSetting(bool(row["enabled"]), str(row["last_month"] or ""))


async def save_mail_setting(actor: Actor, structure_id: int, enabled: bool) -> MailSetting:
    """Turn the e-mailing on or off (audited); turned on, it starts on the next 1st."""
    structure = (
        await Structure.select(Structure.timezone).where(Structure.id == structure_id).first()
    )
    if structure is None:
        raise NotFound(structure_id)
    today = clock.local_today(str(structure["timezone"] or ""))
    async with write_transaction():
        before = await mail_setting(structure_id)
        last_month = before.last_month
        if enabled and not before.enabled:
            last_month = max(last_month, rules.first_month_after_opt_in(today))
        await StatementMailSettings.insert(
            StatementMailSettings(
                structure=structure_id, enabled=enabled, last_month=last_month,
                updated_at=clock.utcnow(),
            )
        ).on_conflict(
            target=StatementMailSettings.structure,
            action="DO UPDATE",
            values=[StatementMailSettings.enabled, StatementMailSettings.last_month,
                    StatementMailSettings.updated_at],
        )  # fmt: skip
        await audit.record(
            actor, "statements.mail_setting", structure_id=structure_id,
            table="statement_mail_settings", before={"enabled": before.enabled},
            after={"enabled": enabled},
        )  # fmt: skip
    return MailSetting(enabled, last_month)


async def structures_due(now: datetime | None = None) -> list[int]:
    """Structures that chose the e-mailing and whose past month is due on their local
    today (the minute sweep enqueues them)."""
    now = now or clock.utcnow()
    rows = await (
        StatementMailSettings.select(
            StatementMailSettings.structure,
            StatementMailSettings.last_month,
            StatementMailSettings.structure._.timezone,
        )
        .where(StatementMailSettings.enabled.eq(True))
        .output(nested=False)
    )
    due = []
    for row in rows:
        today = now.astimezone(clock.zone(str(row["structure.timezone"] or ""))).date()
        if rules.month_to_mail(today, str(row["last_month"] or "")) is not None:
            due.append(int(row["structure"]))
    return due


@dataclass(frozen=True)
class MailingOutcome:
    month: Month | None  # None: nothing due (not opted in, or already mailed)
    statements: int  # family and wallet pairs with movements in the month
    queued: int  # e-mails written now (a replay writes none)


async def _wallets_with_movements(structure_id: int, month: Month) -> list[tuple[int, int]]:
    rows = await (
        LedgerEntry.select(LedgerEntry.family, LedgerEntry.wallet)
        .where(
            (LedgerEntry.family._.structure == structure_id)
            & (LedgerEntry.entry_date >= month.first_day)
            & (LedgerEntry.entry_date <= month.last_day)
        )
        .distinct()
    )
    return sorted({(int(r["family"]), int(r["wallet"])) for r in rows})


async def mail_statements(structure_id: int, month: Month, *, base_url: str) -> MailingOutcome:
    """Queue the month's statement e-mail of every family and wallet with movements, and
    record the month as mailed. Run it as often as wanted: each e-mail is queued once."""
    pairs = await _wallets_with_movements(structure_id, month)
    addresses = await family_addresses((family for family, _ in pairs), None)
    base = base_url.rstrip("/")
    emails = []
    for family_id, wallet_id in pairs:
        to = addresses.get(family_id) or []
        if not to:
            continue  # no address on file: the statement waits in Historiques
        paper = await papers.statement_paper(family_id, wallet_id, month)
        mail = render_email(
            "monthly_statement",
            family_name=paper.family.name,
            structure_name=paper.letterhead.name,
            wallet_name=paper.wallet_name,
            month_label=month.label,
            opening=format_euros(paper.statement.opening_cents),
            closing=format_euros(paper.statement.closing_cents),
            pdf_url=f"{base}/historiques/releve/{wallet_id}/{month.key}",
            history_url=f"{base}/historiques?mois={month.key}",
            portal_url=f"{base}/",
        )
        emails.append(
            QueuedEmail(
                rules.dedupe_key(family_id, wallet_id, month), to, mail.subject, mail.text,
                mail.html,
            )
        )  # fmt: skip
    async with write_transaction():
        queued = await queue_emails(emails)
        await StatementMailSettings.update({StatementMailSettings.last_month: month.key}).where(
            (StatementMailSettings.structure == structure_id)
            & (StatementMailSettings.last_month < month.key)
        )
    return MailingOutcome(month, len(pairs), queued)


async def mail_due_statements(
    structure_id: int, *, base_url: str, now: datetime | None = None
) -> MailingOutcome:
    """The sweep's entry: mail the past month if the structure chose it and it is due."""
    structure = (
        await Structure.select(Structure.timezone).where(Structure.id == structure_id).first()
    )
    if structure is None:
        raise NotFound(structure_id)
    setting = await mail_setting(structure_id)
    now = now or clock.utcnow()
    today = now.astimezone(clock.zone(str(structure["timezone"] or ""))).date()
    month = rules.month_to_mail(today, setting.last_month) if setting.enabled else None
    if month is None:
        return MailingOutcome(None, 0, 0)
    return await mail_statements(structure_id, month, base_url=base_url)
