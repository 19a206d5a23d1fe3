from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.booking.decisions import (
    DayCounters,
    Outcome,
    Remark,
    WaitlistEntry,
    apply_decision,
    decide_booking,
    decide_cancellation,
    next_promotion,
    promotions,
    waitlist_ranks,
)
from portal.domain.booking.states import ReservationStatus

T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def test_outcomes_and_remarks() -> None:
    open_day = DayCounters(capacity=2, waitlist_capacity=1, accepted_count=1)
    assert decide_booking(open_day).outcome is Outcome.ACCEPTED
    assert decide_booking(open_day).remark is None
    full = DayCounters(capacity=2, waitlist_capacity=1, accepted_count=2)
    waitlisted = decide_booking(full)
    assert (waitlisted.outcome, waitlisted.waitlist_rank) == (Outcome.WAITLISTED, 1)
    assert waitlisted.remark is not None and waitlisted.remark.label == "Mise en liste d'attente"
    refused = decide_booking(DayCounters(2, 1, accepted_count=2, waitlisted_count=1))
    assert refused.outcome is Outcome.REFUSED
    assert refused.status is ReservationStatus.REFUSED
    assert refused.remark is Remark.FULL
    assert Remark.FULL.label == "Non traitée, activité complète"
    assert decide_booking(DayCounters(2, 0, accepted_count=2)).outcome is Outcome.REFUSED
    assert decide_booking(DayCounters(None, 0, accepted_count=999)).outcome is Outcome.ACCEPTED
    assert decide_booking(DayCounters(0, None, waitlisted_count=50)).waitlist_rank == 51


def test_staff_decision_late_closed_and_incompatible() -> None:
    counters = DayCounters(capacity=10, waitlist_capacity=0)
    pending = decide_booking(counters, needs_staff_decision=True)
    assert pending.status is ReservationStatus.PENDING
    assert pending.remark is not None
    assert pending.remark.label == "En attente de traitement par nos services"
    late = decide_booking(counters, booking_open=False, needs_staff_decision=True)
    assert (late.outcome, late.remark, late.status) == (Outcome.REJECTED, Remark.LATE, None)
    assert Remark.LATE.label == "Hors délai"
    clash = decide_booking(counters, incompatible=True)
    assert (clash.outcome, clash.remark) == (Outcome.REJECTED, Remark.INCOMPATIBLE)
    assert Remark.INCOMPATIBLE.label == "Horaires incompatibles"
    closed = decide_booking(counters, day_open=False)
    assert (closed.outcome, closed.remark) == (Outcome.REJECTED, Remark.CLOSED)
    assert apply_decision(counters, closed) == counters


def test_cancellation() -> None:
    accepted = decide_cancellation(ReservationStatus.ACCEPTED, cancellation_open=True)
    assert accepted.allowed and accepted.frees_place and not accepted.leaves_waitlist
    waitlisted = decide_cancellation(ReservationStatus.WAITLISTED, cancellation_open=True)
    assert waitlisted.allowed and waitlisted.leaves_waitlist and not waitlisted.frees_place
    refused = decide_cancellation(ReservationStatus.REFUSED, cancellation_open=True)
    assert refused.allowed and not refused.frees_place and not refused.leaves_waitlist
    late = decide_cancellation(ReservationStatus.ACCEPTED, cancellation_open=False)
    assert (late.allowed, late.remark, late.frees_place) == (False, Remark.LATE, False)
    with pytest.raises(ValueError):
        decide_cancellation(ReservationStatus.CANCELLED, cancellation_open=True)


def test_promotion_order_is_confirmation_time_then_id() -> None:
    entries = [
        WaitlistEntry(7, T0 + timedelta(minutes=5)),
        WaitlistEntry(9, T0),
        WaitlistEntry(3, T0),
    ]
    assert next_promotion(entries) == WaitlistEntry(3, T0)
    assert waitlist_ranks(entries) == {3: 1, 9: 2, 7: 3}
    assert next_promotion([]) is None
    counters = DayCounters(capacity=5, waitlist_capacity=None, accepted_count=3)
    assert [e.reservation_id for e in promotions(counters, entries)] == [3, 9]
    unlimited = DayCounters(capacity=None, waitlist_capacity=None)
    assert len(promotions(unlimited, entries)) == 3


# --- any sequence of bookings and cancellations -------------------------------------------


@dataclass
class Register:
    """An in-memory day register that only uses the pure decisions."""

    counters: DayCounters
    statuses: dict[int, ReservationStatus] = field(default_factory=dict)
    ranks: dict[int, int] = field(default_factory=dict)
    confirmed: dict[int, datetime] = field(default_factory=dict)

    def waitlist(self) -> list[WaitlistEntry]:
        return [
            WaitlistEntry(rid, self.confirmed[rid])
            for rid, status in self.statuses.items()
            if status is ReservationStatus.WAITLISTED
        ]

    def book(self, rid: int, at: datetime) -> None:
        decision = decide_booking(self.counters)
        self.counters = apply_decision(self.counters, decision)
        if decision.status is not None:
            self.statuses[rid] = decision.status
            self.confirmed[rid] = at
        if decision.waitlist_rank is not None:
            self.ranks[rid] = decision.waitlist_rank

    def cancel(self, rid: int) -> None:
        choice = decide_cancellation(self.statuses[rid], cancellation_open=True)
        self.statuses[rid] = ReservationStatus.CANCELLED
        self.ranks.pop(rid, None)
        c = self.counters
        if choice.frees_place:
            c = replace(c, accepted_count=c.accepted_count - 1)
        if choice.leaves_waitlist:
            c = replace(c, waitlisted_count=c.waitlisted_count - 1)
        for entry in promotions(c, self.waitlist()):
            self.statuses[entry.reservation_id] = ReservationStatus.ACCEPTED
            self.ranks.pop(entry.reservation_id)
            c = replace(
                c, accepted_count=c.accepted_count + 1, waitlisted_count=c.waitlisted_count - 1
            )
        self.counters = c
        self.ranks = waitlist_ranks(self.waitlist())


operations = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 1000)),
    ),
    max_size=40,
)


@given(
    st.one_of(st.none(), st.integers(0, 4)),
    st.one_of(st.none(), st.integers(0, 4)),
    operations,
)
@settings(max_examples=300)
def test_counters_and_ranks_hold_over_any_sequence(
    capacity: int | None, waitlist_capacity: int | None, ops: list[tuple[str, int]]
) -> None:
    register = Register(DayCounters(capacity, waitlist_capacity))
    clock = T0
    for number, (kind, arg) in enumerate(ops):
        clock += timedelta(seconds=arg)  # several requests may share a confirmation time
        live = [
            rid
            for rid, s in register.statuses.items()
            if s in (ReservationStatus.ACCEPTED, ReservationStatus.WAITLISTED)
        ]
        if kind == "book":
            register.book(number, clock)
        elif live:
            register.cancel(live[arg % len(live)])
        statuses = list(register.statuses.values())
        accepted = statuses.count(ReservationStatus.ACCEPTED)
        waitlisted = statuses.count(ReservationStatus.WAITLISTED)
        c = register.counters
        assert (c.accepted_count, c.waitlisted_count) == (accepted, waitlisted)
        assert capacity is None or accepted <= capacity
        assert waitlist_capacity is None or waitlisted <= waitlist_capacity
        assert sorted(register.ranks.values()) == list(range(1, waitlisted + 1))
        # Nobody waits while a place is free.
        assert waitlisted == 0 or not c.has_place
        # Ranks follow confirmation order.
        by_rank = sorted(register.ranks, key=register.ranks.__getitem__)
        assert by_rank == sorted(by_rank, key=lambda rid: (register.confirmed[rid], rid))
