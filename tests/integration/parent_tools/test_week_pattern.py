"""Semaine type against both databases: every day through every booking rule, into the
basket (never the register), then the usual confirmation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from portal.domain.booking.apply import apply_basket
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.scope import clear_scope_cache, load_scope
from portal.domain.booking.states import DraftAction
from portal.domain.week_pattern import service
from portal.domain.week_pattern.rules import Pattern, PatternError
from portal.tables import (
    ActivityDay,
    Family,
    LedgerEntry,
    Reservation,
    Structure,
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
    make_structure,
)

# Monday 23 November 2026, 13:00 in Paris: with "days:2@10:00", Monday to Wednesday of
# this week are past the booking deadline, Thursday 26 is still open.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


async def book_now(setup: FamilySetup, day: ActivityDay) -> None:
    basket = Basket()
    basket.put(BasketItem(setup.people[0].id, int(day.activity), day.id, day.day, DraftAction.BOOK))
    [result] = await apply_basket(setup.account.id, setup.family.id, basket, now=NOW)
    assert result.outcome == "accepted"


async def test_pattern_goes_through_every_rule_and_lands_in_the_basket(db: Database) -> None:
    structure = await make_structure()
    canteen = await make_activity(
        structure, "Cantine", capacity=None, start=time(11, 30), end=time(13, 30)
    )
    alsh = await make_activity(structure, "ALSH Mercredi", capacity=1, waitlist=0)
    workshop = await make_activity(
        structure, "Atelier du midi", capacity=None, start=time(12), end=time(13)
    )
    canteen_days = {
        day.day: day
        for day in await make_days(
            canteen, d(23), d(24), d(26), d(27), d(30), d(1, 12), d(3, 12)
        )  # no canteen on Friday 4 December (closed)
    }
    alsh_days = {day.day: day for day in await make_days(alsh, d(25), d(2, 12))}
    [workshop_day] = await make_days(workshop, d(26))
    setup = await make_family(structure=structure, children=("Paolo",))
    await enroll(setup.people, canteen, alsh, workshop)
    other = await make_family(login="autre", structure=structure, children=("Zoé",), name="X Y")
    await enroll(other.people, alsh)
    await book_now(other, alsh_days[d(2, 12)])  # the only ALSH place of 2 December
    await book_now(setup, workshop_day)  # overlaps Thursday 26's canteen
    await book_now(setup, canteen_days[d(30)])  # already booked

    scope = await load_scope(setup.family.id)
    person = setup.people[0].id
    pattern = Pattern({canteen.id: frozenset({0, 1, 3, 4}), alsh.id: frozenset({2})})
    pattern_id = await service.save_pattern(scope, person, "Année scolaire", pattern)
    saved = await service.pattern_of(scope, pattern_id)
    assert saved.pattern == pattern

    basket = Basket()
    report = await service.apply_pattern(
        scope, basket, person, saved.pattern, d(23), d(4, 12), now=NOW
    )
    assert [(line.day, line.activity) for line in report.added] == [
        (d(27), "Cantine"),
        (d(1, 12), "Cantine"),
        (d(3, 12), "Cantine"),
    ]
    assert [(line.day, line.activity, line.reason) for line in report.skipped] == [
        (d(23), "Cantine", "Hors délai"),
        (d(24), "Cantine", "Hors délai"),
        (d(25), "ALSH Mercredi", "Hors délai"),
        (d(26), "Cantine", "Horaires incompatibles"),
        (d(30), "Cantine", "Déjà réservé"),
        (d(2, 12), "ALSH Mercredi", "Plus de place"),
        (d(4, 12), "Cantine", "Fermé"),
    ]
    # Nothing in the register until the parent confirms the basket.
    assert await Reservation.count().where(Reservation.family == setup.family.id) == 2
    assert [(i.day, i.action) for i in basket] == [
        (d(27), DraftAction.BOOK),
        (d(1, 12), DraftAction.BOOK),
        (d(3, 12), DraftAction.BOOK),
    ]
    results = await apply_basket(setup.account.id, setup.family.id, basket, now=NOW)
    assert [r.outcome for r in results] == ["accepted"] * 3
    # Applying the saved pattern again next time adds nothing twice.
    again = await service.apply_pattern(
        scope, Basket(), person, saved.pattern, d(27), d(3, 12), now=NOW
    )
    assert again.added == ()
    assert {line.reason for line in again.skipped} == {"Déjà réservé", "Plus de place"}


async def _debt(setup: FamilySetup) -> None:
    await Structure.update({Structure.debt_block_cents: 5000}).where(
        Structure.id == setup.structure.id
    )
    wallet_type = await WalletType.objects().get(WalletType.structure == setup.structure.id)
    assert wallet_type is not None
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()
    await LedgerEntry(
        wallet=wallet.id, family=setup.family.id, kind="debit", amount_cents=-9000,
        label="Régularisation", entry_date=d(20),
    ).save()  # fmt: skip


async def _file(setup: FamilySetup) -> None:
    await Family.update({Family.file_complete: False}).where(Family.id == setup.family.id)


async def _rules(setup: FamilySetup) -> None:
    await add_rules_document(setup.structure)


@pytest.mark.parametrize(
    ("block", "words"),
    [(_debt, "90,00"), (_file, "dossier"), (_rules, "règlement")],
    ids=["debt", "file", "rules-signature"],
)
async def test_a_blocked_child_gets_nothing_and_is_told_why(
    db: Database, block: object, words: str
) -> None:
    structure = await make_structure()
    canteen = await make_activity(structure, "Cantine", capacity=None)
    await make_days(canteen, d(30), d(1, 12))
    setup = await make_family(structure=structure, children=("Paolo",))
    await enroll(setup.people, canteen)
    await block(setup)  # type: ignore[operator]
    clear_scope_cache()
    scope = await load_scope(setup.family.id)
    basket = Basket()
    report = await service.apply_pattern(
        scope, basket, setup.people[0].id, Pattern({canteen.id: frozenset({0, 1})}),
        d(30), d(1, 12), now=NOW,
    )  # fmt: skip
    assert report.added == () and len(basket) == 0
    [skipped] = report.skipped
    assert skipped.day is None and skipped.activity == "Cantine"
    assert words in skipped.reason.lower() or words in skipped.reason


async def test_patterns_are_the_familys_own(db: Database) -> None:
    structure = await make_structure()
    canteen = await make_activity(structure, "Cantine", capacity=None)
    mine = await make_family(structure=structure, children=("Paolo",))
    theirs = await make_family(login="autre", structure=structure, children=("Zoé",), name="X Y")
    await enroll(mine.people + theirs.people, canteen)
    their_scope = await load_scope(theirs.family.id)
    pattern = Pattern({canteen.id: frozenset({0})})
    their_id = await service.save_pattern(their_scope, theirs.people[0].id, "Eux", pattern)
    my_scope = await load_scope(mine.family.id)
    with pytest.raises(service.NotFound):
        await service.pattern_of(my_scope, their_id)
    with pytest.raises(service.NotFound):
        await service.delete_pattern(my_scope, their_id)
    with pytest.raises(Exception, match="n'appartient pas"):
        await service.save_pattern(my_scope, theirs.people[0].id, "Intrus", pattern)
    with pytest.raises(PatternError, match="au moins un jour"):
        await service.save_pattern(my_scope, mine.people[0].id, "Vide", Pattern({}))
    assert await service.patterns_of(my_scope) == []
