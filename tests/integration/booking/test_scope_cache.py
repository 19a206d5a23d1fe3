"""The cached booking scope: reused while nothing changed, never stale after a write of any
kind (a booking, a payment, a staff decision, a file change, a structure change)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from portal import clock
from portal.domain.accounts.service import account_and_families
from portal.domain.booking.apply import apply_basket
from portal.domain.booking.opening import PeriodMode
from portal.domain.booking.scope import BookingScope, load_scope
from portal.tables import (
    Activity,
    BookingPeriod,
    BookingPeriodActivity,
    Family,
    LedgerEntry,
    Person,
    Reservation,
    RulesAcknowledgement,
    RulesDocument,
    ScopeVersion,
    Wallet,
    WalletType,
)
from tests.conftest import Database
from tests.factories import (
    FamilySetup,
    add_rules_document,
    enroll,
    make_activity,
    make_days,
    make_family,
)
from tests.integration.booking.test_apply import NOW, WEDNESDAY, book
from tests.integration.periods.test_periods import make_period


async def _setup() -> tuple[FamilySetup, Activity]:
    setup = await make_family()
    activity = await make_activity(setup.structure)
    await enroll(setup.people, activity)
    return setup, activity


async def test_scope_is_reused_while_nothing_changed(db: Database) -> None:
    setup, _ = await _setup()
    first = await load_scope(setup.family.id)
    assert await load_scope(setup.family.id) is first
    # Another family of the same structure does not invalidate this one.
    await make_family(login="voisin", structure=setup.structure)
    assert await load_scope(setup.family.id) is first


async def _wallet(setup: FamilySetup) -> int:
    wallet_type = await WalletType.objects().get(WalletType.structure == setup.structure.id)
    assert wallet_type is not None
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()
    return int(wallet.id)


Write = Callable[[FamilySetup, Activity], Awaitable[None]]


async def a_payment(setup: FamilySetup, activity: Activity) -> None:
    wallet = await _wallet(setup)
    await LedgerEntry(
        wallet=wallet, family=setup.family.id, kind="debit", amount_cents=-9000,
        label="Régularisation", entry_date=clock.utcnow().date(),
    ).save()  # fmt: skip


async def a_booking(setup: FamilySetup, activity: Activity) -> None:
    [day] = await make_days(activity, WEDNESDAY)
    [result] = await apply_basket(setup.account.id, setup.family.id, book(setup, day), NOW)
    assert result.outcome == "accepted"


async def a_staff_decision(setup: FamilySetup, activity: Activity) -> None:
    await a_booking(setup, activity)
    await Reservation.update({Reservation.status: "refused"}).where(
        Reservation.family == setup.family.id
    )


async def a_file_change(setup: FamilySetup, activity: Activity) -> None:
    await Family.update({Family.file_complete: False}).where(Family.id == setup.family.id)


async def a_child_renamed(setup: FamilySetup, activity: Activity) -> None:
    await Person.update({Person.first_name: "Paola"}).where(Person.id == setup.people[0].id)


async def a_rules_signature(setup: FamilySetup, activity: Activity) -> None:
    document = await RulesDocument.objects().get(RulesDocument.structure == setup.structure.id)
    assert document is not None  # made before the scope was first loaded
    await RulesAcknowledgement(
        person=setup.people[0].id, document=document.id, account=setup.account.id,
        signer_name="Jean-Paul DUPONT", place="Testville",
    ).save()  # fmt: skip


async def an_activity_change(setup: FamilySetup, activity: Activity) -> None:
    await Activity.update({Activity.name: "Accueil du mercredi"}).where(Activity.id == activity.id)


async def a_booking_period(setup: FamilySetup, activity: Activity) -> None:
    await make_period(setup.structure.id, activity.id, PeriodMode.LOTTERY)


async def a_period_allocated(setup: FamilySetup, activity: Activity) -> None:
    await BookingPeriod.update({BookingPeriod.allocated_at: clock.utcnow()}).where(
        BookingPeriod.structure == setup.structure.id
    )


async def an_activity_left_out_of_a_period(setup: FamilySetup, activity: Activity) -> None:
    await BookingPeriodActivity.delete().where(BookingPeriodActivity.activity == activity.id)


@pytest.mark.parametrize(
    "write",
    [
        a_payment, a_booking, a_staff_decision, a_file_change, a_child_renamed,
        a_rules_signature, an_activity_change, a_booking_period, a_period_allocated,
        an_activity_left_out_of_a_period,
    ],
)  # fmt: skip
async def test_every_kind_of_write_invalidates(db: Database, write: Write) -> None:
    setup, activity = await _setup()
    if write is a_rules_signature:
        await add_rules_document(setup.structure)
    if write in (a_period_allocated, an_activity_left_out_of_a_period):
        await a_booking_period(setup, activity)
    before = await load_scope(setup.family.id)
    _, [read_before] = await account_and_families(setup.account.id)
    assert await load_scope(setup.family.id, read_before.scope_versions) is before
    version_rows = await ScopeVersion.count()
    await write(setup, activity)
    after = await load_scope(setup.family.id)
    assert after is not before
    assert await ScopeVersion.count() >= version_rows
    assert await load_scope(setup.family.id) is after  # and cached again
    # The versions a request reads with its account see the write too; versions read
    # before it never bring back the old scope (they make the cache check read again).
    _, [read_after] = await account_and_families(setup.account.id)
    assert read_after.scope_versions != read_before.scope_versions
    assert await load_scope(setup.family.id, read_after.scope_versions) is after
    reread = await load_scope(setup.family.id, read_before.scope_versions)
    assert reread is not before and reread == after


async def test_scope_shows_the_written_state(db: Database) -> None:
    setup, activity = await _setup()
    scope = await load_scope(setup.family.id)
    assert scope.standing.file_complete
    await a_payment(setup, activity)
    await a_file_change(setup, activity)
    await a_child_renamed(setup, activity)
    await an_activity_change(setup, activity)
    scope = await load_scope(setup.family.id)
    assert not scope.standing.file_complete
    assert [w.balance_cents for w in scope.standing.wallets] == [-9000]
    assert {p.first_name for p in scope.people} == {"Paola", "Amalia"}
    assert scope.activities[activity.id].name == "Accueil du mercredi"


async def test_the_structures_part_is_read_once_for_its_families(db: Database) -> None:
    setup, activity = await _setup()
    neighbour = await make_family(login="voisin", structure=setup.structure)
    await enroll(neighbour.people, activity)
    first, second = await load_scope(setup.family.id), await load_scope(neighbour.family.id)
    assert first.activities is second.activities
    await an_activity_change(setup, activity)
    first, second = await load_scope(setup.family.id), await load_scope(neighbour.family.id)
    assert first.activities is second.activities
    assert second.activities[activity.id].name == "Accueil du mercredi"


async def test_scope_carries_the_structures_periods(db: Database) -> None:
    setup, activity = await _setup()
    assert (await load_scope(setup.family.id)).periods == ()
    await a_booking_period(setup, activity)
    [period] = (await load_scope(setup.family.id)).periods
    assert period.activity_ids == {activity.id} and not period.allocated
    await a_period_allocated(setup, activity)
    assert (await load_scope(setup.family.id)).periods[0].allocated
    await an_activity_left_out_of_a_period(setup, activity)
    assert (await load_scope(setup.family.id)).periods[0].activity_ids == set()


async def test_a_rules_document_coming_into_force_lapses_the_cache(db: Database) -> None:
    setup, _ = await _setup()
    later = RulesDocument(
        structure=setup.structure.id, version=1, title="Règlement intérieur", body="Article 1.",
        in_force_from=clock.utcnow() + timedelta(hours=1),
    )  # fmt: skip
    await later.save()
    scope: BookingScope = await load_scope(setup.family.id)
    assert scope.signed == {p.id for p in setup.people}  # nothing in force yet
    assert await load_scope(setup.family.id) is scope
    clock.shift(2 * 3600)
    try:
        assert (await load_scope(setup.family.id)).signed == set()
    finally:
        clock.reset()


async def test_nightly_transmission_marks_do_not_invalidate(db: Database) -> None:
    setup, activity = await _setup()
    await a_booking(setup, activity)
    scope = await load_scope(setup.family.id)
    await Reservation.update({Reservation.transmitted_at: clock.utcnow()}).where(
        Reservation.family == setup.family.id
    )
    assert await load_scope(setup.family.id) is scope
