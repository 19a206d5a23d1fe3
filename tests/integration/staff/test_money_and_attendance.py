"""Attendance marks and counter payments reach the family's ledger and histories."""

from __future__ import annotations

import pytest

from portal.domain.money import service as money
from portal.domain.money.manual import ManualPayment
from portal.domain.money.rules import Month
from portal.domain.staff import attendance, payments
from portal.domain.staff.presence import Presence
from portal.domain.staff.service import NotFound
from portal.tables import AuditLog, LedgerEntry, Reservation
from tests.conftest import Database
from tests.factories import actor, make_staff, make_world, today


async def _debits(reservation_id: int) -> int:
    rows = await LedgerEntry.select(LedgerEntry.amount_cents).where(
        LedgerEntry.reservation == reservation_id
    )
    return sum(int(r["amount_cents"]) for r in rows)


@pytest.mark.parametrize(
    ("presence", "billed"), [(Presence.ABSENT, -1280), (Presence.JUSTIFIED, 0)]
)
async def test_absence_marks_decide_what_the_consumption_posting_bills(
    db: Database, presence: Presence, billed: int
) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)

    line = await attendance.mark(actor(agent), world.sid, world.past.id, presence)

    assert line.presence is presence
    row = await Reservation.objects().get(Reservation.id == world.past.id)
    assert row is not None and (row.absent, row.absence_justified) == presence.flags
    await money.post_consumptions(world.sid, today())
    assert await _debits(world.past.id) == billed
    [entry] = (
        await AuditLog.objects().where(AuditLog.action == "attendance.mark").output(load_json=True)
    )
    assert entry.after == {"presence": presence.value}


async def test_a_justified_absence_after_posting_is_credited_back(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    await money.post_consumptions(world.sid, today())
    assert await _debits(world.past.id) == -1280

    await attendance.mark(actor(agent), world.sid, world.past.id, Presence.JUSTIFIED)
    await money.post_consumptions(world.sid, today())

    assert await _debits(world.past.id) == 0


async def test_attendance_list_and_scope(db: Database) -> None:
    world = await make_world()
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    agent = await make_staff("agent", world.structure)

    listing = await attendance.attendance_list(world.sid, world.activity.id, world.full_day.day)

    assert {line.reservation_id for line in listing.lines} == {r.id for r in world.accepted}
    assert listing.present_count == 2
    other = await attendance.attendance_list(
        world.sid, elsewhere.activity.id, elsewhere.full_day.day
    )
    assert other.day_id is None and other.lines == []
    with pytest.raises(NotFound):
        await attendance.mark(actor(agent), world.sid, elsewhere.past.id, Presence.ABSENT)
    with pytest.raises(NotFound):  # only accepted reservations are on the list
        await attendance.mark(actor(agent), world.sid, world.waitlisted[0].id, Presence.ABSENT)


async def test_a_cheque_credits_the_wallet_once_and_shows_in_the_history(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    family_id = int(world.family.family.id)
    [wallet] = await payments.family_wallets(world.sid, family_id)
    cheque = ManualPayment(
        wallet.wallet_id, "CHEQUE", 5000, today(), "DUPONT Jean-Paul", "1234567", "Banque Postale"
    )

    assert await payments.record_payment(actor(agent), world.sid, family_id, cheque, "k" * 20)
    assert not await payments.record_payment(actor(agent), world.sid, family_id, cheque, "k" * 20)

    [after] = await payments.family_wallets(world.sid, family_id)
    assert after.balance_cents == wallet.balance_cents + 5000
    history = await money.history(family_id, Month(today().year, today().month))
    [line] = history.payments
    assert (line.mode, line.piece_number, line.payer_name, line.bank_name, line.amount_cents) == (
        "CHEQUE", "1234567", "DUPONT Jean-Paul", "Banque Postale", 5000,
    )  # fmt: skip
    assert await AuditLog.count().where(AuditLog.action == "payment.record") == 1


async def test_a_payment_to_a_wallet_of_another_family_is_refused(db: Database) -> None:
    world = await make_world()
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    agent = await make_staff("agent", world.structure)
    [foreign] = await payments.family_wallets(elsewhere.sid, int(elsewhere.family.family.id))
    cash = ManualPayment(foreign.wallet_id, "ESPECES", 1000, today(), "X")

    with pytest.raises(NotFound):
        await payments.record_payment(
            actor(agent), world.sid, int(world.family.family.id), cash, "k" * 20
        )
    with pytest.raises(NotFound):
        await payments.family_wallets(world.sid, int(elsewhere.family.family.id))
    assert await LedgerEntry.count().where(LedgerEntry.payment_mode.is_not_null()) == 0
