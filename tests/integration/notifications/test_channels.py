"""The parent's choices decide who is e-mailed and pushed, through one function that
every sender asks (here: the report addresses, the low-balance alert)."""

from __future__ import annotations

from datetime import timedelta

from portal.domain.channels import service as channels
from portal.domain.channels.rules import Choice, Kind, complete
from portal.domain.money import service as money
from portal.domain.notifications.service import family_addresses
from portal.domain.push import rules as push_rules
from portal.domain.push import service as push
from portal.domain.reminders import service as reminders
from portal.tables import AccountFamily, OutboxEmail, OutboxPush
from tests.conftest import Database
from tests.factories import add_tariff, make_family, money_setup, today
from tests.integration.notifications.conftest import BrowserKeys


async def test_choices_are_saved_per_account_and_read_back(db: Database) -> None:
    setup = await make_family()
    account_id = int(setup.account.id)
    assert await channels.account_choices(account_id) == complete({})
    mine = [Choice(Kind.MESSAGE, email=False, push=True), Choice(Kind.PAYMENT_TICKET)]
    await channels.save_choices(account_id, mine, 24)
    await channels.save_choices(account_id, mine, 24)  # saved twice: one row per kind
    by_kind = {c.kind: c for c in await channels.account_choices(account_id)}
    assert by_kind[Kind.MESSAGE] == Choice(Kind.MESSAGE, email=False, push=True)
    assert await channels.lead_hours([account_id, 999]) == {account_id: 24, 999: 48}


async def test_only_the_accounts_that_kept_e_mail_are_addressed(db: Database) -> None:
    first = await make_family(login="pere", emails="pere@example.fr; pere2@example.fr")
    second = await make_family(login="mere", emails="mere@example.fr", structure=first.structure)
    family_id = int(first.family.id)
    await AccountFamily(account=second.account.id, family=family_id).save()
    await channels.save_choices(
        int(first.account.id), [Choice(Kind.BOOKING_REPORT, email=False, push=True)], 48
    )
    assert (await family_addresses([family_id], Kind.BOOKING_REPORT))[family_id] == [
        "mere@example.fr"
    ]
    assert (await family_addresses([family_id], Kind.LOW_BALANCE))[family_id] == [
        "pere@example.fr",
        "pere2@example.fr",
        "mere@example.fr",
    ]
    # E-mails a family cannot turn off (reset links, debt reminders) ignore the choices.
    assert len((await family_addresses([family_id], None))[family_id]) == 3
    found = await channels.recipients([family_id], Kind.BOOKING_REPORT)
    assert [(p.email, p.push) for p in found[family_id]] == [(False, True), (True, False)]


async def test_low_balance_alert_follows_the_choices(db: Database) -> None:
    setup = await money_setup(emails="sophie.martin@example.fr")
    account_id = int(setup.family.account.id)
    await add_tariff(setup.activity, "A", 500, today() - timedelta(days=400))
    await setup.reserve(today() + timedelta(days=1))
    browser = BrowserKeys.new()
    sub = push_rules.parse_subscription(browser.subscription("https://push.example/abc"))
    await push.subscribe(account_id, sub, "")
    await channels.save_choices(account_id, [Choice(Kind.LOW_BALANCE, email=False, push=True)], 48)
    await money.wallet_balances(setup.family_id)
    outcome = await reminders.check_low_balances(int(setup.structure.id), base_url="http://x")
    assert outcome.alerted == 0  # nobody e-mailed
    assert await OutboxEmail.count() == 0
    [row] = await OutboxPush.select()
    assert row["title"] == "Solde bas" and "-5,00" in row["body"]
