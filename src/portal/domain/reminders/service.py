"""Reminder use cases: the low-balance alert (threshold in the parent's profile, a daily
check per structure that e-mails a family once per fall below it) and the staff debt
reminders ("relances": families in debt beyond N days, first and second reminder e-mails
from the structure's templates, a printable letter, each reminder recorded)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Sum

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.channels.rules import Kind
from portal.domain.money import rules as money_rules
from portal.domain.money import service as money
from portal.domain.money_format import format_euros
from portal.domain.notifications.service import family_addresses, render_email
from portal.domain.outbox.service import queue_email
from portal.domain.push import service as push
from portal.domain.reminders import rules
from portal.domain.reminders.rules import TemplateError
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import (
    BalanceAlert,
    BalanceCheck,
    DebtReminder,
    Family,
    LedgerEntry,
    ReminderSettings,
    ReminderTemplate,
    Structure,
)


class NotFound(errors.NotFound):
    """No such family in this structure."""


# --- low balance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSetting:
    threshold_cents: int
    below: bool
    alerts_sent: int


async def alert_setting(family_id: int) -> AlertSetting:
    row = await BalanceAlert.select().where(BalanceAlert.family == family_id).first()
    if row is None:
        return AlertSetting(0, False, 0)
    return AlertSetting(int(row["threshold_cents"]), bool(row["below"]), int(row["alerts_sent"]))


async def set_threshold(family_id: int, threshold_cents: int) -> None:
    """The parent's threshold (0 to 1 000 €); the alert state is kept."""
    if not 0 <= threshold_cents <= rules.MAX_THRESHOLD_CENTS:
        raise money_rules.AmountError("Le seuil d'alerte doit être compris entre 0 et 1 000 €.")
    async with write_transaction():
        await BalanceAlert.insert(
            BalanceAlert(family=family_id, threshold_cents=threshold_cents)
        ).on_conflict(
            target=BalanceAlert.family,
            action="DO UPDATE",
            values=[BalanceAlert.threshold_cents],
        )


async def estimated_balance(family_id: int, today: date) -> int:
    """All wallets' balance minus the accepted reservations of the next 14 days not yet
    debited (the days before, not yet posted, included)."""
    wallets = await money.wallet_balances(family_id)
    until = today + timedelta(days=rules.HORIZON_DAYS)
    statuses = money_rules.counted_statuses(confirmed=True, waiting=False)
    items = await money.unbilled_reservations(family_id, until, statuses)
    costs = money_rules.estimated_costs(items, until, statuses)
    return sum(w.balance_cents for w in wallets) - sum(costs.values())


@dataclass(frozen=True)
class CheckOutcome:
    checked: int
    alerted: int  # e-mails queued (a family without an address is not e-mailed)
    recovered: int


def _decision(row: dict[str, Any] | None, estimate: int) -> rules.AlertDecision:
    threshold = int(row["threshold_cents"]) if row else 0
    return rules.next_alert_state(bool(row["below"]) if row else False, estimate, threshold)


async def _alert(
    family_id: int,
    family_name: str,
    structure_name: str,
    estimate: int,
    threshold: int,
    number: int,
    base_url: str,
) -> bool:
    """Queue the family's push and e-mail of its ``number``-th fall (the key makes a replay
    queue nothing); whether an e-mail was queued."""
    key = f"low-balance:{family_id}:{number}"
    await push.queue_push(
        Kind.LOW_BALANCE,
        family_id,
        key,
        "Solde bas",
        f"Votre solde estimé ({format_euros(estimate)}) est passé sous votre seuil"
        f" d'alerte ({format_euros(threshold)}).",
        "/paiement",
    )
    to = (await family_addresses([family_id], Kind.LOW_BALANCE)).get(family_id) or []
    if not to:
        return False
    mail = render_email(
        "low_balance",
        family_name=family_name,
        structure_name=structure_name,
        estimate=format_euros(estimate),
        threshold=format_euros(threshold),
        horizon=rules.HORIZON_DAYS,
        portal_url=f"{base_url.rstrip('/')}/",
    )
    return await queue_email(key, to, mail.subject, mail.text, mail.html)


async def check_low_balances(structure_id: int, *, base_url: str) -> CheckOutcome:
    """Check every family of the structure; e-mail those that just fell below their
    threshold. Run it as often as wanted: a family is e-mailed once per fall."""
    structure = (
        await Structure.select(Structure.name, Structure.timezone)
        .where(Structure.id == structure_id)
        .first()
    )
    if structure is None:
        raise NotFound(structure_id)
    today = clock.local_today(str(structure["timezone"]))
    families = await Family.select(Family.id, Family.name).where(Family.structure == structure_id)
    # Every estimate and every alert state read at once; a family is written to only when
    # its state changes (most days, for nobody).
    estimates = await money.estimated_balances(
        structure_id,
        today + timedelta(days=rules.HORIZON_DAYS),
        money_rules.counted_statuses(confirmed=True, waiting=False),
    )
    states = {
        int(r["family"]): r
        for r in await BalanceAlert.select().where(BalanceAlert.family._.structure == structure_id)
    }
    alerted = recovered = 0
    for family in families:
        family_id = int(family["id"])
        estimate = estimates.get(family_id, 0)
        known = states.get(family_id)
        decision = _decision(known, estimate)
        if known is None and not decision.below:
            continue
        if known is not None and decision.below == bool(known["below"]) and not decision.send:
            continue
        async with write_transaction():
            # Read again under the write lock: a parent may have changed the threshold, or
            # another run recorded this fall, since the read above.
            row = await BalanceAlert.select().where(BalanceAlert.family == family_id).first()
            threshold = int(row["threshold_cents"]) if row else 0
            was_below = bool(row["below"]) if row else False
            count = int(row["alerts_sent"]) if row else 0
            decision = rules.next_alert_state(was_below, estimate, threshold)
            if row is None and not decision.below:
                continue
            if decision.send:
                if await _alert(
                    family_id, str(family["name"]), str(structure["name"]), estimate,
                    threshold, count + 1, base_url,
                ):  # fmt: skip
                    alerted += 1
            if decision.recovered:
                recovered += 1
            if decision.below == was_below and row is not None:
                continue
            now = clock.utcnow()
            values: dict[Any, Any] = {
                BalanceAlert.below: decision.below,
                BalanceAlert.updated_at: now,
            }
            if decision.send:
                values[BalanceAlert.alerts_sent] = count + 1
                values[BalanceAlert.last_alert_at] = now
            if decision.recovered:
                values[BalanceAlert.recovered_at] = now
            if row is None:
                await BalanceAlert.insert(
                    BalanceAlert(
                        family=family_id,
                        threshold_cents=threshold,
                        below=decision.below,
                        alerts_sent=count + (1 if decision.send else 0),
                        last_alert_at=now if decision.send else None,
                        updated_at=now,
                    )
                )
            else:
                await BalanceAlert.update(values).where(BalanceAlert.family == family_id)
    async with write_transaction():
        await BalanceCheck.insert(
            BalanceCheck(structure=structure_id, day=today, checked_at=clock.utcnow())
        ).on_conflict(action="DO NOTHING")
    return CheckOutcome(len(families), alerted, recovered)


@dataclass(frozen=True)
class Settings:
    low_balance_alerts: bool
    debt_days: int


async def reminder_settings(structure_id: int) -> Settings:
    row = await ReminderSettings.select().where(ReminderSettings.structure == structure_id).first()
    if row is None:
        return Settings(False, rules.DEFAULT_DEBT_DAYS)
    return Settings(bool(row["low_balance_alerts"]), int(row["debt_days"]))


async def save_settings(
    actor: Actor, structure_id: int, low_balance_alerts: bool, debt_days: int
) -> None:
    if not 0 <= debt_days <= 365:
        raise TemplateError("Le nombre de jours de dette doit être compris entre 0 et 365.")
    async with write_transaction():
        await ReminderSettings.insert(
            ReminderSettings(
                structure=structure_id, low_balance_alerts=low_balance_alerts,
                debt_days=debt_days, updated_at=clock.utcnow(),
            )
        ).on_conflict(
            target=ReminderSettings.structure,
            action="DO UPDATE",
            values=[ReminderSettings.low_balance_alerts, ReminderSettings.debt_days,
                    ReminderSettings.updated_at],
        )  # fmt: skip
        await audit.record(
            actor, "reminders.settings", structure_id=structure_id, table="reminder_settings",
            after={"low_balance_alerts": low_balance_alerts, "debt_days": debt_days},
        )  # fmt: skip


async def structures_due_for_balance_check(now: datetime | None = None) -> list[int]:
    """Structures with low-balance alerts on, not yet checked on their local today (the
    sweep enqueues them)."""
    now = now or clock.utcnow()
    enabled = [
        int(r["structure"])
        for r in await ReminderSettings.select(ReminderSettings.structure).where(
            ReminderSettings.low_balance_alerts.eq(True)
        )
    ]
    if not enabled:
        return []
    structures = await Structure.select(Structure.id, Structure.timezone).where(
        Structure.id.is_in(enabled)
    )
    checked = {
        (int(r["structure"]), clock.as_date(r["day"]))
        for r in await BalanceCheck.select(BalanceCheck.structure, BalanceCheck.day).where(
            BalanceCheck.day >= (now - timedelta(days=2)).date()
        )
    }
    due = []
    for s in structures:
        local = now.astimezone(clock.zone(str(s["timezone"] or ""))).date()
        if (int(s["id"]), local) not in checked:
            due.append(int(s["id"]))
    return due


# --- debt reminders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    level: int
    subject: str
    body: str
    is_default: bool


async def templates(structure_id: int) -> dict[int, Template]:
    rows = await ReminderTemplate.select().where(ReminderTemplate.structure == structure_id)
    found = {int(r["level"]): r for r in rows}
    out = {}
    for level, (subject, body) in rules.DEFAULT_TEMPLATES.items():
        row = found.get(level)
        out[level] = (
            Template(level, str(row["subject"]), str(row["body"]), False)
            if row
            else Template(level, subject, body, True)
        )
    return out


async def save_template(
    actor: Actor, structure_id: int, level: int, subject: str, body: str
) -> None:
    if level not in rules.DEFAULT_TEMPLATES:
        raise TemplateError("Niveau de relance inconnu : 1 ou 2.")
    subject, body = rules.check_template(subject, body)
    async with write_transaction():
        await ReminderTemplate.insert(
            ReminderTemplate(
                structure=structure_id, level=level, subject=subject, body=body,
                updated_at=clock.utcnow(),
            )
        ).on_conflict(
            target=(ReminderTemplate.structure, ReminderTemplate.level),
            action="DO UPDATE",
            values=[ReminderTemplate.subject, ReminderTemplate.body, ReminderTemplate.updated_at],
        )  # fmt: skip
        await audit.record(
            actor, "reminders.template", structure_id=structure_id, table="reminder_template",
            after={"level": level, "subject": subject},
        )  # fmt: skip


@dataclass(frozen=True)
class SentReminder:
    level: int
    channel: str
    amount_cents: int
    sent_at: datetime
    staff_login: str

    @property
    def label(self) -> str:
        kind = "1re relance" if self.level == 1 else "2e relance"
        return f"{kind} ({'e-mail' if self.channel == 'email' else 'lettre'})"


@dataclass(frozen=True)
class Debtor:
    family_id: int
    name: str
    debt_cents: int  # positive
    since: date
    reminders: list[SentReminder]

    @property
    def next_level(self) -> int:
        return rules.next_level(r.level for r in self.reminders)


async def _sent(family_ids: list[int]) -> dict[int, list[SentReminder]]:
    out: dict[int, list[SentReminder]] = {f: [] for f in family_ids}
    if not family_ids:
        return out
    for r in await (
        DebtReminder.select()
        .where(DebtReminder.family.is_in(family_ids))
        .order_by(DebtReminder.sent_at)
    ):
        out[int(r["family"])].append(
            SentReminder(
                int(r["level"]), str(r["channel"]), int(r["amount_cents"]), r["sent_at"],
                str(r["staff_login"]),
            )
        )  # fmt: skip
    return out


async def debtors(structure_id: int, today: date, days: int) -> list[Debtor]:
    """Families of the structure whose total balance has been negative for ``days`` days
    or more, the oldest debts first."""
    families = {
        int(r["id"]): str(r["name"])
        for r in await Family.select(Family.id, Family.name).where(Family.structure == structure_id)
    }
    if not families:
        return []
    totals = await (
        LedgerEntry.select(LedgerEntry.family, Sum(LedgerEntry.amount_cents, alias="total"))
        .where(LedgerEntry.family.is_in(sorted(families)))
        .group_by(LedgerEntry.family)
    )
    in_debt = [int(r["family"]) for r in totals if int(r["total"] or 0) < 0]
    if not in_debt:
        return []
    entries: dict[int, list[tuple[date, int]]] = {f: [] for f in in_debt}
    for e in await LedgerEntry.select(
        LedgerEntry.family, LedgerEntry.entry_date, LedgerEntry.amount_cents
    ).where(LedgerEntry.family.is_in(in_debt)):
        entries[int(e["family"])].append((clock.as_date(e["entry_date"]), int(e["amount_cents"])))
    sent = await _sent(in_debt)
    out = []
    for family_id in in_debt:
        since = rules.debt_since(entries[family_id])
        if since is None or not rules.in_debt_beyond(since, today, days):
            continue
        debt = -sum(amount for _, amount in entries[family_id])
        out.append(Debtor(family_id, families[family_id], debt, since, sent[family_id]))
    out.sort(key=lambda d: (d.since, d.name))
    return out


@dataclass(frozen=True)
class Letter:
    family_id: int
    family_name: str
    level: int
    subject: str
    body: str
    debt_cents: int
    since: date


async def _debtor(structure_id: int, family_id: int, today: date) -> Debtor:
    for debtor in await debtors(structure_id, today, 0):
        if debtor.family_id == family_id:
            return debtor
    raise NotFound(family_id)


async def _letter(structure_id: int, debtor: Debtor, level: int) -> Letter:
    structure = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    template = (await templates(structure_id))[level]
    values = {
        "famille": debtor.name,
        "montant": format_euros(debtor.debt_cents),
        "depuis": debtor.since.strftime("%d/%m/%Y"),
        "structure": str(structure["name"]) if structure else "",
    }
    return Letter(
        debtor.family_id,
        debtor.name,
        level,
        rules.fill(template.subject, values),
        rules.fill(template.body, values),
        debtor.debt_cents,
        debtor.since,
    )


async def send_reminder(
    actor: Actor, structure_id: int, family_id: int, level: int, today: date, *, key: str
) -> bool:
    """E-mail the family its first or second reminder and record it; False when this form
    was already sent (same key) or the family has no e-mail address."""
    if level not in rules.DEFAULT_TEMPLATES:
        raise TemplateError("Niveau de relance inconnu : 1 ou 2.")
    debtor = await _debtor(structure_id, family_id, today)
    letter = await _letter(structure_id, debtor, level)
    to = (await family_addresses([family_id], None)).get(family_id) or []
    if not to:
        raise TemplateError("Cette famille n'a aucune adresse e-mail : imprimez la lettre.")
    body_html = (
        "<p>"
        + "</p><p>".join(html.escape(p).replace("\n", "<br>") for p in letter.body.split("\n\n"))
        + "</p>"
    )
    async with write_transaction():
        queued = await queue_email(
            f"debt-reminder:{family_id}:{key[:60]}", to, letter.subject, letter.body, body_html
        )
        if not queued:
            return False
        await DebtReminder.insert(
            DebtReminder(
                family=family_id, level=level, channel="email", amount_cents=debtor.debt_cents,
                debt_since=debtor.since, staff_login=actor.login, sent_at=clock.utcnow(),
            )
        )  # fmt: skip
        await audit.record(
            actor, "reminders.email", structure_id=structure_id, table="debt_reminder",
            target_id=family_id, after={"level": level, "amount_cents": debtor.debt_cents},
        )  # fmt: skip
    return True


async def letter(
    actor: Actor, structure_id: int, family_id: int, level: int, today: date
) -> Letter:
    """The printable letter of a reminder; printing it records it on the family."""
    if level not in rules.DEFAULT_TEMPLATES:
        raise TemplateError("Niveau de relance inconnu : 1 ou 2.")
    debtor = await _debtor(structure_id, family_id, today)
    result = await _letter(structure_id, debtor, level)
    async with write_transaction():
        await DebtReminder.insert(
            DebtReminder(
                family=family_id, level=level, channel="lettre", amount_cents=debtor.debt_cents,
                debt_since=debtor.since, staff_login=actor.login, sent_at=clock.utcnow(),
            )
        )  # fmt: skip
        await audit.record(
            actor, "reminders.letter", structure_id=structure_id, table="debt_reminder",
            target_id=family_id, after={"level": level, "amount_cents": debtor.debt_cents},
        )  # fmt: skip
    return result


async def family_reminders(structure_id: int, family_id: int) -> list[SentReminder]:
    row = (
        await Family.select(Family.id)
        .where((Family.id == family_id) & (Family.structure == structure_id))
        .first()
    )
    if row is None:
        raise NotFound(family_id)
    return (await _sent([family_id]))[family_id]
