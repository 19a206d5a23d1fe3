"""Direct debit on SQLite and PostgreSQL: mandates, a monthly run with its
pre-notifications, the pain.008 file checked against the ISO 20022 schema, posting,
rejects, and replays that change nothing."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sepaxml
import xmlschema

from portal import clock
from portal.domain.money import service as money
from portal.domain.money.rules import Month
from portal.domain.sepa import rules
from portal.domain.sepa import service as sepa
from portal.domain.sepa.rules import DebitStatus, SepaError
from portal.domain.staff.service import Actor
from portal.tables import LedgerEntry, OutboxEmail, SepaDebit
from tests.conftest import Database
from tests.factories import MoneySetup, make_staff, money_setup, today

CREDITOR_IBAN = "FR7630006000011234567890189"
FAMILY_IBAN = "FR1420041010050500013M02606"
SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")


async def _settings(setup: MoneySetup, basis: str = "debt", notice: str = "14") -> Actor:
    actor = Actor.of(await make_staff("regisseur", setup.structure))
    form = sepa.check_creditor_form(
        "Mairie de Testville", "FR72ZZZ123456", CREDITOR_IBAN, "", "20", notice, basis, True
    )
    await sepa.save_creditor(actor, int(setup.structure.id), form)
    return actor


async def test_mandate_signed_online_unique_and_revoked(db: Database) -> None:
    setup = await money_setup()
    with pytest.raises(SepaError, match="ne propose pas"):
        await sepa.sign_online(
            setup.family_id, int(setup.family.account.id), "DUPONT", FAMILY_IBAN, "", agreed=True
        )
    await _settings(setup)
    with pytest.raises(SepaError, match="Cochez"):
        await sepa.sign_online(
            setup.family_id, int(setup.family.account.id), "DUPONT", FAMILY_IBAN, "", agreed=False
        )
    with pytest.raises(SepaError, match="IBAN valide"):
        await sepa.sign_online(
            setup.family_id, int(setup.family.account.id), "DUPONT", "FR00 1234", "", agreed=True
        )
    mandate = await sepa.sign_online(
        setup.family_id, int(setup.family.account.id), "DUPONT Jean-Paul", FAMILY_IBAN, "",
        agreed=True,
    )  # fmt: skip
    assert mandate.reference == f"PF{setup.structure.id}-{setup.family_id:06d}-01"
    assert mandate.bic and mandate.notice_days == 14 and mandate.source == "online"
    with pytest.raises(SepaError, match="déjà en vigueur"):
        await sepa.sign_online(
            setup.family_id, int(setup.family.account.id), "X Y", FAMILY_IBAN, "", agreed=True
        )
    assert await sepa.revoke(setup.family_id, mandate.mandate_id, "parent:famille")
    assert not await sepa.revoke(setup.family_id, mandate.mandate_id, "parent:famille")
    assert await sepa.live_mandate(setup.family_id) is None
    again = await sepa.sign_online(
        setup.family_id, int(setup.family.account.id), "DUPONT Jean-Paul", FAMILY_IBAN, "",
        agreed=True,
    )  # fmt: skip
    assert again.reference.endswith("-02")
    other = await money_setup(login="autre")
    with pytest.raises(sepa.NotFound):
        await sepa.family_mandate(other.family_id, again.mandate_id)


async def test_monthly_run_is_notified_validated_posted_and_rejected_once(db: Database) -> None:
    setup = await money_setup(emails="parent@example.fr")
    actor = await _settings(setup)
    await money.record_correction(setup.wallet_id, -8240, "Consommations", today())
    paper = await sepa.record_paper_mandate(
        actor, int(setup.structure.id), setup.family_id, "DUPONT Jean-Paul", FAMILY_IBAN, "",
        today() - timedelta(days=30),
    )  # fmt: skip
    assert paper.source == "paper"
    # A family without a mandate, and one in credit with a mandate: nothing to collect.
    await money_setup(login="sans-mandat")
    month = Month.of(today()).shift(1)
    plan = await sepa.plan_run(int(setup.structure.id), month, today())
    assert [(d.mandate.family_id, d.amount_cents) for d in plan.debits] == [(setup.family_id, 8240)]
    assert plan.collection_date == month.first_day.replace(day=20)

    prepared = await sepa.prepare_run(
        actor, int(setup.structure.id), month, today(), base_url="http://portail.test"
    )
    assert prepared.added == 1 and prepared.notified == 1
    [notice] = await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("sepa-notice:%"))
    assert notice["to_addresses"] == "parent@example.fr"
    assert "82,40" in notice["body_text"] and paper.reference in notice["body_text"]
    assert plan.collection_date.strftime("%d/%m/%Y") in notice["subject"]
    # Running the month again debits nothing twice.
    again = await sepa.prepare_run(
        actor, int(setup.structure.id), month, today(), base_url="http://portail.test"
    )
    assert again.run_id == prepared.run_id and again.added == 0
    assert await SepaDebit.count() == 1

    xml = await sepa.pain008(int(setup.structure.id), prepared.run_id)
    xmlschema.XMLSchema(SCHEMA).validate(xml.decode())
    text = xml.decode()
    assert '<InstdAmt Ccy="EUR">82.40</InstdAmt>' in text
    assert f"<MndtId>{paper.reference}</MndtId>" in text and "<SeqTp>FRST</SeqTp>" in text
    assert "FR72ZZZ123456" in text and FAMILY_IBAN in text

    with pytest.raises(SepaError, match="à partir du"):
        await sepa.post_run(actor, int(setup.structure.id), prepared.run_id, today())
    collection = plan.collection_date
    assert await sepa.post_run(actor, int(setup.structure.id), prepared.run_id, collection) == 1
    assert await sepa.post_run(actor, int(setup.structure.id), prepared.run_id, collection) == 0
    [credit] = await LedgerEntry.select().where(LedgerEntry.payment_mode == "PRELEVEMENT")
    assert credit["amount_cents"] == 8240 and credit["piece_number"] == paper.reference
    balances = {w.wallet_id: w.balance_cents for w in await money.wallet_balances(setup.family_id)}
    assert balances[setup.wallet_id] == 0

    [debit] = (await sepa.run_detail(int(setup.structure.id), prepared.run_id)).debits
    assert debit.status is DebitStatus.POSTED
    with pytest.raises(SepaError, match="Motif"):
        await sepa.record_reject(actor, int(setup.structure.id), debit.debit_id, "XX00", collection,
                                 base_url="http://portail.test")  # fmt: skip
    assert await sepa.record_reject(
        actor, int(setup.structure.id), debit.debit_id, "AM04", collection,
        base_url="http://portail.test",
    )  # fmt: skip
    assert not await sepa.record_reject(
        actor, int(setup.structure.id), debit.debit_id, "AM04", collection,
        base_url="http://portail.test",
    )  # fmt: skip
    balances = {w.wallet_id: w.balance_cents for w in await money.wallet_balances(setup.family_id)}
    assert balances[setup.wallet_id] == -8240
    [reject_mail] = await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("sepa-reject:%"))
    assert "Provision insuffisante" in reject_mail["body_text"]
    run = await sepa.run_detail(int(setup.structure.id), prepared.run_id)
    assert run.debits[0].status is DebitStatus.REJECTED and run.total_cents == 0
    with pytest.raises(SepaError, match="aucune opération"):
        await sepa.pain008(int(setup.structure.id), prepared.run_id)
    # Another structure cannot see the run.
    other = await money_setup(login="ailleurs")
    with pytest.raises(sepa.NotFound):
        await sepa.run_detail(int(other.structure.id), prepared.run_id)


async def test_notice_delay_and_month_basis(db: Database) -> None:
    setup = await money_setup()
    actor = await _settings(setup, basis="month", notice="14")
    mandate = await sepa.record_paper_mandate(
        actor, int(setup.structure.id), setup.family_id, "DUPONT", FAMILY_IBAN, "",
        today() - timedelta(days=3),
    )  # fmt: skip
    month = Month.of(today()).shift(1)
    last_month_day = month.shift(-1).first_day
    from portal.tables import LedgerEntry as Entry

    await Entry(
        wallet=setup.wallet_id, family=setup.family_id, kind="debit", amount_cents=-1266,
        entry_date=last_month_day, label="Restauration", person=setup.person_id,
        activity=setup.activity.id, quantity=3,
    ).save()  # fmt: skip
    await money.record_correction(setup.wallet_id, 5000, "Avance", last_month_day)
    plan = await sepa.plan_run(int(setup.structure.id), month, today())
    # "month": last month's consumptions, whatever the balance.
    assert [d.amount_cents for d in plan.debits] == [1266]
    # Too late to notify 14 days ahead: the mandate is left out, not debited early.
    late = plan.collection_date - timedelta(days=13)
    plan = await sepa.plan_run(int(setup.structure.id), month, late)
    assert plan.debits == [] and [m.mandate_id for m in plan.too_late] == [mandate.mandate_id]
    with pytest.raises(SepaError, match="est passée"):
        await sepa.plan_run(
            int(setup.structure.id), month, plan.collection_date + timedelta(days=1)
        )
    assert rules.DEFAULT_NOTICE_DAYS == 14
    assert clock.utcnow()  # the frozen clock is untouched by these plans
