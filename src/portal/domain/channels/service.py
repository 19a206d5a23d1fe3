"""The parent's notification choices: read and saved per account, and `recipients()`, the
one place every sender (reports, promotions, tickets, alerts, reminders, decisions,
messages) asks who gets a notification of a kind, and by which channel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portal import clock
from portal.db import write_transaction
from portal.domain.channels import rules
from portal.domain.channels.rules import Channel, Choice, Kind
from portal.domain.outbox.rules import split_addresses
from portal.tables import AccountFamily, NotificationPreference, NotificationSettings


async def account_choices(account_id: int) -> list[Choice]:
    """The account's channels for every kind (defaults where nothing was saved)."""
    rows = await NotificationPreference.select().where(NotificationPreference.account == account_id)
    saved = {
        Kind(r["kind"]): Choice(Kind(r["kind"]), bool(r["email"]), bool(r["push"]))
        for r in rows
        if r["kind"] in Kind.__members__.values()
    }
    return rules.complete(saved)


async def save_choices(account_id: int, choices: Sequence[Choice], lead_hours: int) -> None:
    """Record the account's channels per kind and its reminder lead time, at once."""
    if lead_hours not in rules.LEAD_HOURS:
        raise rules.ChoiceError("Choisissez un délai de rappel dans la liste.")
    now = clock.utcnow()
    async with write_transaction():
        for choice in choices:
            await NotificationPreference.insert(
                NotificationPreference(
                    account=account_id,
                    kind=choice.kind.value,
                    email=choice.email,
                    push=choice.push,
                    updated_at=now,
                )
            ).on_conflict(
                target=(NotificationPreference.account, NotificationPreference.kind),
                action="DO UPDATE",
                values=[
                    NotificationPreference.email,
                    NotificationPreference.push,
                    NotificationPreference.updated_at,
                ],
            )
        await NotificationSettings.insert(
            NotificationSettings(account=account_id, deadline_lead_hours=lead_hours, updated_at=now)
        ).on_conflict(
            target=NotificationSettings.account,
            action="DO UPDATE",
            values=[NotificationSettings.deadline_lead_hours, NotificationSettings.updated_at],
        )


async def lead_hours(account_ids: Iterable[int]) -> dict[int, int]:
    """Each account's reminder lead time (the default when never chosen)."""
    ids = sorted(set(account_ids))
    found = dict.fromkeys(ids, rules.DEFAULT_LEAD_HOURS)
    if ids:
        for row in await NotificationSettings.select(
            NotificationSettings.account, NotificationSettings.deadline_lead_hours
        ).where(NotificationSettings.account.is_in(ids)):
            found[int(row["account"])] = int(row["deadline_lead_hours"])
    return found


@dataclass(frozen=True)
class Recipient:
    """One account of a family, with what it wants for one kind."""

    account_id: int
    emails: tuple[str, ...]
    email: bool
    push: bool

    @property
    def addresses(self) -> tuple[str, ...]:
        """The addresses to e-mail (none when the account turned e-mail off)."""
        return self.emails if self.email else ()


async def recipients(family_ids: Iterable[int], kind: Kind | None) -> dict[int, list[Recipient]]:
    """Every account of each family with its channels for `kind`, in account order.

    `kind=None` is for the e-mails a family cannot turn off (password reset, debt
    reminders, SEPA pre-notifications): e-mail on, push off.
    """
    ids = sorted(set(family_ids))
    found: dict[int, list[Recipient]] = {family_id: [] for family_id in ids}
    if not ids:
        return found
    links = await (
        AccountFamily.select(
            AccountFamily.family, AccountFamily.account, AccountFamily.account.emails
        )
        .where(AccountFamily.family.is_in(ids))
        .order_by(AccountFamily.id)
        .output(nested=False)
    )
    account_ids = sorted({int(r["account"]) for r in links})
    saved: dict[int, Choice] = {}
    if kind is not None and account_ids:
        for row in await NotificationPreference.select().where(
            NotificationPreference.account.is_in(account_ids)
            & (NotificationPreference.kind == kind.value)
        ):
            saved[int(row["account"])] = Choice(kind, bool(row["email"]), bool(row["push"]))
    for link in links:
        account_id = int(link["account"])
        choice = (
            Choice(Kind.MESSAGE, email=True, push=False)
            if kind is None
            else saved.get(account_id) or rules.default_choice(kind)
        )
        found[int(link["family"])].append(
            Recipient(
                account_id=account_id,
                emails=tuple(split_addresses(link["account.emails"] or "")),
                email=choice.wants(Channel.EMAIL),
                push=choice.wants(Channel.PUSH),
            )
        )
    return found


def addresses_of(people: Iterable[Recipient]) -> list[str]:
    """The addresses to e-mail, in order, without case-insensitive repeats."""
    kept: list[str] = []
    seen: set[str] = set()
    for person in people:
        for address in person.addresses:
            if address.lower() not in seen:
                seen.add(address.lower())
                kept.append(address)
    return kept
