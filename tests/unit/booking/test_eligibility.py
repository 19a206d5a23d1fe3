from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from portal.domain.booking.eligibility import (
    BlockCode,
    BookingCandidate,
    FamilyStanding,
    WalletStanding,
    amount_to_unblock,
    blocked_wallet_reasons,
    booking_block_reasons,
    family_block_reasons,
)
from portal.domain.money_format import NBSP

SCHOOL = WalletStanding(1, "Services Scolaires et ALSH", 0, block_threshold_cents=3000)
MUSIC = WalletStanding(2, "Ecole de musique", 0)
CANTEEN = BookingCandidate(
    "Léo", "Restauration Scolaire", 1, enrolled=True, rules_acknowledged=True
)


def standing(
    school: int = 0,
    music: int = 0,
    global_threshold: int | None = None,
    school_threshold: int | None = 3000,
) -> FamilyStanding:
    return FamilyStanding(
        file_complete=True,
        wallets=(
            replace(SCHOOL, balance_cents=school, block_threshold_cents=school_threshold),
            replace(MUSIC, balance_cents=music),
        ),
        global_threshold_cents=global_threshold,
    )


def test_allowed_when_everything_is_in_order() -> None:
    assert booking_block_reasons(standing(school=-3000, music=500), CANTEEN) == []


def test_wallet_debt_message_and_amount() -> None:
    reasons = booking_block_reasons(standing(school=-6240), CANTEEN)
    assert [r.code for r in reasons] == [BlockCode.WALLET_DEBT]
    assert reasons[0].message == (
        f"Votre compte est débiteur de 62,40{NBSP}€ sur le porte-monnaie "
        f"« Services Scolaires et ALSH » : au-delà de 30,00{NBSP}€, les réservations sont "
        "bloquées."
    )
    assert reasons[0].amount_to_pay_cents == 3240
    assert reasons[0].wallet_id == 1


def test_blocked_only_when_the_debt_exceeds_the_threshold() -> None:
    assert booking_block_reasons(standing(school=-3000), CANTEEN) == []
    assert booking_block_reasons(standing(school=-3001), CANTEEN)[0].amount_to_pay_cents == 1


def test_wallet_threshold_only_blocks_that_wallets_activities() -> None:
    piano = BookingCandidate("Léo", "Piano", 2, enrolled=True, rules_acknowledged=True)
    assert booking_block_reasons(standing(school=-9000), piano) == []
    assert [r.wallet_id for r in blocked_wallet_reasons(standing(school=-9000))] == [1]


def test_global_threshold_sums_every_wallet() -> None:
    # 62,40 € of debt on one wallet, 10,00 € credit on the other: 52,40 € of debt.
    reasons = family_block_reasons(standing(school=-6240, music=1000, global_threshold=5000))
    assert [r.code for r in reasons] == [BlockCode.GLOBAL_DEBT]
    assert reasons[0].amount_to_pay_cents == 240
    assert reasons[0].message == (
        f"Votre compte est débiteur de 52,40{NBSP}€ : au-delà de 50,00{NBSP}€, "
        "les réservations sont bloquées."
    )
    assert family_block_reasons(standing(school=-6240, music=1240, global_threshold=5000)) == []


def test_file_rules_and_enrolment() -> None:
    family = replace(standing(), file_complete=False)
    candidate = replace(CANTEEN, enrolled=False, rules_acknowledged=False)
    reasons = booking_block_reasons(family, candidate)
    assert [r.code for r in reasons] == [
        BlockCode.FILE_INCOMPLETE,
        BlockCode.RULES_NOT_ACKNOWLEDGED,
        BlockCode.NOT_ENROLLED,
    ]
    assert "pour Léo" in reasons[1].message
    assert reasons[2].message == "L'activité « Restauration Scolaire » n'est pas accessible à Léo."
    assert amount_to_unblock(reasons) == 0


@given(
    st.integers(-50_000, 50_000),
    st.integers(-50_000, 50_000),
    st.one_of(st.none(), st.integers(0, 20_000)),
    st.one_of(st.none(), st.integers(0, 20_000)),
)
def test_paying_the_amount_to_unblock_lifts_every_debt_reason(
    school: int, music: int, school_threshold: int | None, global_threshold: int | None
) -> None:
    reasons = booking_block_reasons(
        standing(school, music, global_threshold, school_threshold), CANTEEN
    )
    assert all(r.amount_to_pay_cents > 0 for r in reasons)
    amount = amount_to_unblock(reasons)
    paid = standing(school + amount, music, global_threshold, school_threshold)
    assert booking_block_reasons(paid, CANTEEN) == []
    if amount > 0:
        short = standing(school + amount - 1, music, global_threshold, school_threshold)
        assert booking_block_reasons(short, CANTEEN) != []
