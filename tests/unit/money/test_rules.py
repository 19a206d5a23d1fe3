"""Money rules: balances, postings, estimates, typed amounts, months, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.money import rules
from portal.domain.money.export import consumptions_csv, payments_csv
from portal.domain.money.rules import AmountError, Billable, Entry, Month
from portal.domain.money.service import ConsumptionLine, PaymentLine
from portal.domain.money_format import format_euros

WALLETS = [1, 2, 3]
days = st.dates(date(2025, 1, 1), date(2027, 12, 31))
statuses = st.sampled_from(["accepted", "pending", "waitlisted", "refused", "cancelled"])
prices = st.one_of(st.none(), st.integers(0, 5000))

billables = st.builds(
    Billable,
    reservation_id=st.integers(1, 60),
    wallet_id=st.sampled_from(WALLETS),
    day=days,
    status=statuses,
    quantity=st.integers(0, 6),
    absence_justified=st.booleans(),
    unit_price_cents=prices,
)


@st.composite
def unique_billables(draw: st.DrawFn) -> list[Billable]:
    items = draw(st.lists(billables, max_size=30))
    seen: dict[int, Billable] = {}
    for item in items:
        seen.setdefault(item.reservation_id, item)
    return list(seen.values())


# One operation on the ledger: a posting run, an online payment, a correction.
operations = st.one_of(
    st.tuples(st.just("post"), days),
    st.tuples(
        st.just("pay"),
        st.integers(1, 40),
        st.dictionaries(st.sampled_from(WALLETS), st.integers(1, 100_000), min_size=1),
    ),
    st.tuples(
        st.just("correct"),
        st.sampled_from(WALLETS),
        st.integers(-50_000, 50_000).filter(lambda n: n != 0),
        st.booleans(),
    ),
)


@given(unique_billables(), st.lists(operations, max_size=25))
def test_balance_is_the_sum_of_entries_after_any_sequence(
    items: list[Billable], ops: list[tuple[object, ...]]
) -> None:
    ledger: list[Entry] = []
    expected = dict.fromkeys(WALLETS, 0)
    debited: set[int] = set()
    paid: set[tuple[int, int]] = set()
    for n, op in enumerate(ops):
        if op[0] == "post":
            until = op[1]
            assert isinstance(until, date)
            new = [
                Entry(d.wallet_id, -d.total_cents, rules.consumption_key(d.reservation_id))
                for d in rules.consumption_debits(items, until)
                if d.total_cents > 0
            ]
            for d in rules.consumption_debits(items, until):
                if d.reservation_id not in debited and d.total_cents > 0:
                    debited.add(d.reservation_id)
                    expected[d.wallet_id] -= d.total_cents
        elif op[0] == "pay":
            payment_id, amounts = op[1], op[2]
            assert isinstance(payment_id, int) and isinstance(amounts, dict)
            new = [Entry(w, c, rules.online_payment_key(payment_id, w)) for w, c in amounts.items()]
            for w, c in amounts.items():
                if (payment_id, w) not in paid:
                    paid.add((payment_id, w))
                    expected[w] += c
        else:
            wallet, amount, keyed = op[1], op[2], op[3]
            assert isinstance(wallet, int) and isinstance(amount, int)
            new = [Entry(wallet, amount, f"correction:{n}" if keyed else None)]
            expected[wallet] += amount
        ledger, _ = rules.append_entries(ledger, new)
        # Replaying any operation (a second notification, a second night) adds nothing keyed.
        ledger, replayed = rules.append_entries(ledger, [e for e in new if e.dedupe_key])
        assert replayed == []

    balances = rules.balances(ledger, WALLETS)
    assert balances == expected
    for wallet in WALLETS:
        assert balances[wallet] == sum(e.amount_cents for e in ledger if e.wallet_id == wallet)
    keys = [e.dedupe_key for e in ledger if e.dedupe_key]
    assert len(keys) == len(set(keys))
    assert all((e.kind == "credit") == (e.amount_cents > 0) for e in ledger)


@given(unique_billables(), days, st.booleans(), st.booleans())
def test_estimate_matches_a_plain_recomputation(
    items: list[Billable], until: date, confirmed: bool, waiting: bool
) -> None:
    counted = rules.counted_statuses(confirmed, waiting)
    estimate = rules.estimated_costs(items, until, counted)
    plain: dict[int, int] = {}
    for item in items:
        wanted = (confirmed and item.status == "accepted") or (
            waiting and item.status in ("pending", "waitlisted")
        )
        if not wanted or item.day > until or item.absence_justified:
            continue
        if item.unit_price_cents is None:
            continue
        cost = item.unit_price_cents * item.quantity
        if cost or item.quantity > 0:
            plain[item.wallet_id] = plain.get(item.wallet_id, 0) + cost
    assert {w: c for w, c in estimate.items() if c} == {w: c for w, c in plain.items() if c}
    assert all(c >= 0 for c in estimate.values())


@given(unique_billables(), days)
def test_debits_are_accepted_priced_unjustified_days_up_to_until(
    items: list[Billable], until: date
) -> None:
    debits = rules.consumption_debits(items, until)
    by_id = {i.reservation_id: i for i in items}
    for debit in debits:
        item = by_id[debit.reservation_id]
        assert item.status == "accepted" and not item.absence_justified
        assert (
            item.day <= until and debit.total_cents == (item.unit_price_cents or 0) * item.quantity
        )
        assert debit.total_cents > 0
    assert len(debits) == sum(
        1
        for i in items
        if i.status == "accepted"
        and not i.absence_justified
        and i.day <= until
        and (i.unit_price_cents or 0) > 0
        and i.quantity > 0
    )


def test_price_in_force_is_the_latest_valid_from_on_or_before_the_day() -> None:
    tariffs = [(date(2026, 1, 1), 400), (date(2026, 3, 1), 450), (date(2025, 9, 1), 380)]
    assert rules.price_in_force(tariffs, date(2025, 8, 31)) is None
    assert rules.price_in_force(tariffs, date(2025, 12, 31)) == 380
    assert rules.price_in_force(tariffs, date(2026, 2, 28)) == 400
    assert rules.price_in_force(tariffs, date(2026, 3, 1)) == 450


@given(st.integers(0, rules.MAX_TYPED_CENTS))
def test_amount_round_trips_through_every_accepted_spelling(cents: int) -> None:
    euros, rest = divmod(cents, 100)
    assert rules.parse_amount_cents(rules.amount_for_input(cents)) == cents
    assert rules.parse_amount_cents(f"{euros}.{rest:02d}") == cents
    assert rules.parse_amount_cents(format_euros(cents)) == cents  # what the pages display
    if rest == 0:
        assert rules.parse_amount_cents(str(euros)) == cents
    if rest % 10 == 0:
        assert rules.parse_amount_cents(f"{euros},{rest // 10}") == cents


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("118,04", 11804),
        ("118.04", 11804),
        ("118", 11800),
        ("118,5", 11850),
        ("0", 0),
        ("1 234,50", 123450),
        ("1\u202f234,50 €", 123450),
        ("  7,00 ", 700),
    ],
)
def test_amounts_as_parents_type_them(typed: str, cents: int) -> None:
    assert rules.parse_amount_cents(typed) == cents


@pytest.mark.parametrize(
    "typed", ["-5", "12,345", "abc", "1.234,56", "1e3", "12,", ",5", "0x10", "١٢", "12..5", "€"]
)
def test_bad_amounts_are_refused_in_french(typed: str) -> None:
    with pytest.raises(AmountError) as caught:
        rules.parse_amount_cents(typed)
    assert "montant" in str(caught.value).lower()


@given(st.text(max_size=30))
def test_parsing_never_crashes_with_anything_but_amount_error(typed: str) -> None:
    try:
        cents = rules.parse_amount_cents(typed, blank=0)
    except AmountError:
        return
    assert 0 <= cents <= rules.MAX_TYPED_CENTS


def test_blank_amount() -> None:
    assert rules.parse_amount_cents("", blank=0) == 0
    with pytest.raises(AmountError):
        rules.parse_amount_cents("")


def test_settling_amount_and_totals() -> None:
    assert rules.settling_amount(-11804, 0) == 11804
    assert rules.settling_amount(-4605, 3325) == 7930
    assert rules.settling_amount(17180, 0) == 0
    assert rules.settling_amount(1000, 2500) == 1500
    totals = rules.Totals(-4605, 3325)
    assert totals.balance_label == "Montant dû" and totals.estimated_balance_cents == -7930
    assert rules.Totals(17180, 0).balance_label == "Votre crédit"


def test_limits() -> None:
    assert not rules.within_limits(99, 100, 10_000_000)
    assert rules.within_limits(100, 100, 10_000_000)
    assert not rules.within_limits(10_000_001, 100, 10_000_000)
    assert not rules.within_limits(0, None, None)
    assert rules.limits_message(100, 10_000_000) == (
        "Le montant total d'un paiement en ligne doit être compris entre 1,00\u00a0€ et "
        "100\u202f000,00\u00a0€."
    )


@given(st.integers(1950, 2100), st.integers(1, 12), st.integers(-30, 30))
def test_months(year: int, month: int, shift: int) -> None:
    m = Month(year, month)
    assert Month.parse(m.key) == m
    assert m.shift(shift).shift(-shift) == m
    assert m.last_day + timedelta(days=1) == m.shift(1).first_day
    assert Month.of(m.last_day) == m


def test_month_labels_and_bad_months() -> None:
    assert Month(2026, 10).label == "Octobre 2026"
    assert Month(2026, 12).shift(1) == Month(2027, 1)
    for bad in ["2026-13", "2026-1", "26-10", "octobre", "2026-00"]:
        with pytest.raises(ValueError, match="mois valide"):
            Month.parse(bad)
    assert rules.default_estimate_until(date(2026, 1, 31)) == date(2026, 2, 28)
    assert rules.default_estimate_until(date(2026, 12, 5)) == date(2027, 1, 31)


def test_csv_opens_in_french_excel() -> None:
    lines = [
        ConsumptionLine(
            date(2026, 10, 14), "DUPONT", "Paolo", "Accueil Matin 1/2 heure", 32, 3, 96
        ),
        ConsumptionLine(
            date(2026, 10, 12), "=HYPERLINK(1)", "Amalia", "Cantine; repas", 422, 1, 422
        ),
    ]
    content = consumptions_csv(lines, 518)
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == ["Date", "Nom", "Prénom", "Activité", "Prix (€)", "Qté", "Total (€)"]
    assert rows[1] == [
        "14/10/2026",
        "DUPONT",
        "Paolo",
        "Accueil Matin 1/2 heure",
        "0,32",
        "3",
        "0,96",
    ]
    assert rows[2][1] == "'=HYPERLINK(1)" and rows[2][3] == "Cantine; repas"
    assert rows[-1] == ["TOTAL", "", "", "", "", "", "5,18"]
    assert "\r\n" in content
    payments = payments_csv(
        [PaymentLine(date(2026, 10, 1), "CB", "CB", "123", "DUPONT", "Paiement en ligne", 11804)],
        11804,
    )
    assert "01/10/2026;CB;123;DUPONT;Paiement en ligne;118,04\r\n" in payments
