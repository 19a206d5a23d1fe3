"""Consumption posting, balances, estimates and histories, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from portal.domain.money import service as money
from portal.domain.money.pricing import unit_price_cents
from portal.domain.money.rules import Month
from portal.tables import LedgerEntry, Reservation
from tests.conftest import Database
from tests.factories import add_tariff, make_wallet_activity, money_setup, today


async def _debits(family_id: int) -> dict[int, tuple[int, int, int]]:
    rows = await LedgerEntry.select(
        LedgerEntry.reservation,
        LedgerEntry.amount_cents,
        LedgerEntry.unit_price_cents,
        LedgerEntry.quantity,
        LedgerEntry.dedupe_key,
    ).where((LedgerEntry.family == family_id) & (LedgerEntry.kind == "debit"))
    for row in rows:
        assert row["dedupe_key"] == f"consumption:{row['reservation']}"
    return {
        int(r["reservation"]): (
            int(r["unit_price_cents"]),
            int(r["quantity"]),
            int(r["amount_cents"]),
        )
        for r in rows
    }


async def test_posting_uses_the_tariff_of_the_day_band_and_quantity(db: Database) -> None:
    now = today()
    revision = now - timedelta(days=5)
    setup = await money_setup(band="B")
    await add_tariff(setup.activity, "A", 422, now - timedelta(days=400))
    await add_tariff(setup.activity, "B", 345, now - timedelta(days=400))
    await add_tariff(setup.activity, "B", 352, revision)
    before = await setup.reserve(revision - timedelta(days=1))
    on_revision = await setup.reserve(revision, quantity=3)
    justified = await setup.reserve(revision + timedelta(days=1), justified=True)
    waitlisted = await setup.reserve(revision + timedelta(days=2), "waitlisted")
    pending = await setup.reserve(
        revision + timedelta(days=2), "pending", person_id=int(setup.family.people[1].id)
    )
    cancelled = await setup.reserve(revision + timedelta(days=3), "cancelled")
    yesterday = await setup.reserve(
        now - timedelta(days=1), person_id=int(setup.family.people[1].id)
    )
    today_row = await setup.reserve(now)
    # Another structure's reservation is left alone.
    other = await money_setup(login="autre")
    await add_tariff(other.activity, "A", 500, now - timedelta(days=400))
    other_row = await other.reserve(now - timedelta(days=2))

    assert await unit_price_cents(setup.activity.id, "B", revision - timedelta(days=1)) == 345
    assert await unit_price_cents(setup.activity.id, "B", revision) == 352
    assert await unit_price_cents(setup.activity.id, "C", revision) is None

    posted = await money.post_consumptions(int(setup.structure.id), until=now + timedelta(days=30))
    assert posted == 3
    debits = await _debits(setup.family_id)
    assert debits == {
        before: (345, 1, -345),
        on_revision: (352, 3, -1056),
        yesterday: (352, 1, -352),
    }
    for skipped in (justified, waitlisted, pending, cancelled, today_row):
        assert skipped not in debits
    assert await _debits(other.family_id) == {}
    [balance] = await money.wallet_balances(setup.family_id)
    assert balance.balance_cents == -(345 + 1056 + 352)

    # Twice: nothing more.
    assert await money.post_consumptions(int(setup.structure.id), until=now) == 0
    assert len(await _debits(setup.family_id)) == 3

    # Tomorrow the day that is today has ended.
    assert (
        await money.post_consumptions(int(other.structure.id), until=now - timedelta(days=3)) == 0
    )
    assert await money.post_consumptions(int(other.structure.id), until=now) == 1
    assert other_row in await _debits(other.family_id)


async def test_justified_absence_after_posting_is_credited_back_once(db: Database) -> None:
    now = today()
    setup = await money_setup()
    await add_tariff(setup.activity, "A", 422, now - timedelta(days=30))
    reservation = await setup.reserve(now - timedelta(days=2))
    assert await money.post_consumptions(int(setup.structure.id), until=now) == 1
    await Reservation.update({Reservation.absence_justified: True, Reservation.absent: True}).where(
        Reservation.id == reservation
    )
    assert await money.post_consumptions(int(setup.structure.id), until=now) == 1
    assert await money.post_consumptions(int(setup.structure.id), until=now) == 0
    [balance] = await money.wallet_balances(setup.family_id)
    assert balance.balance_cents == 0
    history = await money.history(setup.family_id, Month.of(now - timedelta(days=2)))
    assert sorted(line.total_cents for line in history.consumptions) == [-422, 422]
    assert history.consumption_total_cents == 0


async def test_balance_is_the_sum_of_entries_and_corrections_are_entries(db: Database) -> None:
    setup = await money_setup()
    day = today()
    assert await money.record_correction(setup.wallet_id, 5000, "Chèque", day, "cheque:1")
    assert not await money.record_correction(setup.wallet_id, 5000, "Chèque", day, "cheque:1")
    assert await money.record_correction(setup.wallet_id, -1250, "Régularisation", day)
    [balance] = await money.wallet_balances(setup.family_id)
    assert balance.balance_cents == 3750
    total = sum(int(r["amount_cents"]) for r in await LedgerEntry.select(LedgerEntry.amount_cents))
    assert total == 3750


async def test_estimate_counts_what_is_not_debited_up_to_the_date(db: Database) -> None:
    now = today()
    setup = await money_setup()
    music_type_structure = setup.structure
    await add_tariff(setup.activity, "A", 400, now - timedelta(days=100))
    await add_tariff(setup.activity, "A", 500, now + timedelta(days=10))
    from portal.tables import WalletType

    music_type = WalletType(structure=music_type_structure.id, name="Ecole de musique", position=2)
    await music_type.save()
    piano = await make_wallet_activity(music_type_structure, music_type, "Piano")
    await add_tariff(piano, "A", 900, now - timedelta(days=100))

    await setup.reserve(now - timedelta(days=3))  # will be posted
    await setup.reserve(now - timedelta(days=1))  # past, not posted yet: still estimated
    await setup.reserve(now + timedelta(days=5), quantity=2)
    await setup.reserve(now + timedelta(days=12))  # revised tariff
    await setup.reserve(now + timedelta(days=6), "waitlisted")
    await setup.reserve(now + timedelta(days=7), justified=True)
    await setup.reserve(now + timedelta(days=40))  # beyond the date
    await setup.reserve(now + timedelta(days=8), "pending", activity=piano)
    await setup.reserve(now + timedelta(days=9), activity=piano)
    await money.post_consumptions(int(setup.structure.id), until=now - timedelta(days=2))

    until = now + timedelta(days=20)
    confirmed = await money.payment_overview(setup.family_id, until, confirmed=True, waiting=False)
    lines = {w.name: w for w in confirmed.wallets}
    school, music = lines["Services Scolaires et ALSH"], lines["Ecole de musique"]
    assert school.balance_cents == -400
    assert school.estimated_cents == 400 + 2 * 400 + 500
    assert school.new_balance_cents == -400 - 1700
    assert school.suggested_payment_cents == 2100
    assert music.estimated_cents == 900
    assert confirmed.totals.estimated_cents == 2600
    everything = await money.payment_overview(setup.family_id, until, confirmed=True, waiting=True)
    assert {w.name: w.estimated_cents for w in everything.wallets} == {
        "Services Scolaires et ALSH": 1700 + 400,
        "Ecole de musique": 1800,
    }
    nothing = await money.payment_overview(setup.family_id, until, confirmed=False, waiting=False)
    assert nothing.totals.estimated_cents == 0
    assert nothing.suggested_total_cents == 400


async def test_debt_blocks_are_reported_with_the_amount_to_pay(db: Database) -> None:
    setup = await money_setup(structure_threshold=5000, wallet_threshold=3000)
    await money.record_correction(setup.wallet_id, -8240, "Consommations", today())
    overview = await money.payment_overview(setup.family_id, today())
    codes = {r.code.value: r.amount_to_pay_cents for r in overview.block_reasons}
    assert codes == {"global_debt": 3240, "wallet_debt": 5240}
    assert overview.amount_to_unblock_cents == 5240
    exactly = await money_setup(login="pile", structure_threshold=5000)
    await money.record_correction(exactly.wallet_id, -5000, "Consommations", today())
    assert (await money.payment_overview(exactly.family_id, today())).block_reasons == []


async def test_history_filters_and_months(db: Database) -> None:
    setup = await money_setup()
    first = date(2026, 1, 1)
    await add_tariff(setup.activity, "A", 422, first)
    amalia = int(setup.family.people[1].id)
    paolo = setup.person_id
    days = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 2, 2)]
    for day in days:
        await setup.reserve(day)
        await setup.reserve(day, person_id=amalia)
    await money.post_consumptions(int(setup.structure.id), until=date(2026, 2, 28))
    await money.record_correction(setup.wallet_id, 2000, "Chèque", date(2026, 1, 20))
    await LedgerEntry.update(
        {LedgerEntry.payment_mode: "CHEQUE", LedgerEntry.piece_number: "0001234"}
    ).where(LedgerEntry.amount_cents == 2000)

    january = await money.history(setup.family_id, Month(2026, 1))
    assert len(january.consumptions) == 4 and january.consumption_total_cents == 4 * 422
    assert [c.day for c in january.consumptions] == sorted(
        (c.day for c in january.consumptions), reverse=True
    )
    assert [p.piece_number for p in january.payments] == ["0001234"]
    assert january.payment_total_cents == 2000
    only_amalia = await money.history(setup.family_id, Month(2026, 1), person_id=amalia)
    assert {c.first_name for c in only_amalia.consumptions} == {"Amalia"}
    one_day = await money.history(setup.family_id, Month(2026, 1), day=date(2026, 1, 6))
    assert len(one_day.consumptions) == 2
    other_activity = await money.history(setup.family_id, Month(2026, 1), activity_id=999)
    assert other_activity.consumptions == []
    february = await money.history(setup.family_id, Month(2026, 2), person_id=paolo)
    assert len(february.consumptions) == 1 and february.payments == []
    # Another family sees none of it.
    other = await money_setup(login="voisin")
    assert (await money.history(other.family_id, Month(2026, 1))).consumptions == []
