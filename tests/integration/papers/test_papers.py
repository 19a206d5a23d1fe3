"""Statements, receipts and certificates rendered as PDF, read back with pypdf, and
recomputed from the ledger to the cent, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from portal.domain.money import service as money
from portal.domain.money.manual import ManualPayment, record_manual_payment
from portal.domain.money.rules import Month
from portal.domain.money_format import format_euros
from portal.domain.papers import pdf
from portal.domain.papers import service as papers
from portal.domain.papers.rules import Category
from portal.domain.staff.service import Actor
from portal.tables import LedgerEntry
from tests.conftest import Database
from tests.factories import (
    MoneySetup,
    add_tariff,
    make_staff,
    make_wallet_activity,
    money_setup,
    today,
)


async def _actor(setup: MoneySetup) -> Actor:
    return Actor.of(await make_staff("regisseur", setup.structure))


def pdf_text(content: bytes) -> str:
    """The text of every page, spaces normalised (the PDF keeps NBSP as plain spaces)."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", raw)


def euros(cents: int) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", format_euros(cents))


async def _debit(
    setup: MoneySetup, day: date, cents: int, activity_id: int, person_id: int
) -> None:
    await LedgerEntry(
        wallet=setup.wallet_id,
        family=setup.family_id,
        kind="debit",
        amount_cents=-cents,
        entry_date=day,
        label="Consommation",
        person=person_id,
        activity=activity_id,
        unit_price_cents=cents,
        quantity=1,
    ).save()


async def _ledger_sum(wallet_id: int, until: date) -> int:
    rows = await LedgerEntry.select(LedgerEntry.amount_cents).where(
        (LedgerEntry.wallet == wallet_id) & (LedgerEntry.entry_date <= until)
    )
    return sum(int(r["amount_cents"]) for r in rows)


async def test_statement_reconciles_with_the_ledger(db: Database) -> None:
    setup = await money_setup()
    await papers.save_profile(
        await _actor(setup),
        int(setup.structure.id),
        "1 place de la Mairie\n33850 Léognan",
        "Le régisseur",
    )
    month = Month.of(today()).shift(-1)
    alsh = await make_wallet_activity(setup.structure, setup.wallet_type, "ALSH Mercredi")
    paolo, amalia = (int(p.id) for p in setup.family.people)
    # Before the month: opening balance of 20,00 - 4,22.
    await record_manual_payment(
        ManualPayment(
            setup.wallet_id, "CHEQUE", 2000, month.first_day - timedelta(days=3), "DUPONT"
        ),
        "k-1",
    )
    await _debit(setup, month.first_day - timedelta(days=2), 422, int(setup.activity.id), paolo)
    # The month: meals and ALSH for two children, a cheque, a correction.
    for offset in range(3):
        await _debit(
            setup, month.first_day + timedelta(days=offset), 422, int(setup.activity.id), paolo
        )
    await _debit(setup, month.first_day + timedelta(days=1), 1250, int(alsh.id), amalia)
    await record_manual_payment(
        ManualPayment(
            setup.wallet_id,
            "CHEQUE",
            3000,
            month.first_day + timedelta(days=4),
            "DUPONT",
            "0001234",
            "Crédit Agricole",
        ),
        "k-2",
    )
    await money.record_correction(
        setup.wallet_id, -150, "Régularisation", month.first_day + timedelta(days=5)
    )
    # After the month: not on it.
    await _debit(setup, month.last_day + timedelta(days=1), 999, int(setup.activity.id), paolo)

    paper = await papers.statement_paper(setup.family_id, setup.wallet_id, month)
    s = paper.statement
    assert s.opening_cents == await _ledger_sum(
        setup.wallet_id, month.first_day - timedelta(days=1)
    )
    assert s.closing_cents == await _ledger_sum(setup.wallet_id, month.last_day)
    assert s.opening_cents == 1578
    assert s.consumption_total_cents == 3 * 422 + 1250
    assert s.closing_cents == 1578 - 3 * 422 - 1250 + 3000 - 150

    content = await pdf.render_pdf(
        "statement.html", title="Relevé", head=paper.letterhead, family=paper.family,
        paper=paper, modes=papers.PAYMENT_MODES,
    )  # fmt: skip
    text = pdf_text(content)
    assert f"Relevé de compte · {month.label}" in text
    assert "Mairie de Testville" in text and "33850 Léognan" in text
    assert "DUPONT Jean-Paul" in text
    for amount in (s.opening_cents, s.closing_cents, 3 * 422, 1250, 3000, -150):
        assert euros(amount) in text, amount
    assert "Paolo DUPONT Restauration Scolaire 3" in text
    assert "Amalia DUPONT ALSH Mercredi 1" in text
    assert "0001234" in text
    assert euros(999) not in text


async def test_papers_are_scoped_to_the_family(db: Database) -> None:
    setup = await money_setup()
    other = await money_setup(login="autre")
    await record_manual_payment(ManualPayment(other.wallet_id, "ESPECES", 500, today(), "X"), "k")
    entry = (
        await LedgerEntry.select(LedgerEntry.id)
        .where(LedgerEntry.family == other.family_id)
        .first()
    )
    assert entry is not None
    with pytest.raises(papers.NotFound):
        await papers.statement_paper(setup.family_id, other.wallet_id, Month.of(today()))
    with pytest.raises(papers.NotFound):
        await papers.receipt_paper(setup.family_id, int(entry["id"]))
    with pytest.raises(papers.NotFound):
        await papers.attendance_paper(
            setup.family_id, int(other.family.people[0].id), today() - timedelta(days=9), today()
        )
    assert (await papers.receipt_paper(other.family_id, int(entry["id"]))).line.amount_cents == 500


async def test_receipt_shows_the_payment(db: Database) -> None:
    setup = await money_setup()
    day = today() - timedelta(days=2)
    entry_id = await record_manual_payment(
        ManualPayment(
            setup.wallet_id,
            "CHEQUE",
            12345,
            day,
            "DUPONT Jean-Paul",
            "0009876",
            "La Banque Postale",
        ),
        "k",
    )
    assert entry_id is not None
    paper = await papers.receipt_paper(setup.family_id, entry_id)
    text = pdf_text(
        await pdf.render_pdf(
            "receipt.html", title="Reçu", head=paper.letterhead, family=paper.family, paper=paper
        )
    )
    assert f"Reçu de paiement n° {day.year}-{entry_id:06d}" in text
    assert euros(12345) in text
    assert "Chèque" in text and "0009876" in text and "Banque Postale" in text
    assert day.strftime("%d/%m/%Y") in text
    # Debits have no receipt.
    debit = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.kind == "debit").first()
    assert debit is None


async def test_tax_certificate_per_child_with_meals_apart(db: Database) -> None:
    setup = await money_setup()
    year = today().year - 1
    alsh = await make_wallet_activity(
        setup.structure, setup.wallet_type, "Accueil périscolaire soir"
    )
    music = await make_wallet_activity(setup.structure, setup.wallet_type, "Cours de piano")
    paolo, amalia = (int(p.id) for p in setup.family.people)  # both born 04/05/2019
    await _debit(setup, date(year, 3, 2), 800, int(alsh.id), paolo)
    await _debit(setup, date(year, 3, 3), 800, int(alsh.id), paolo)
    await _debit(setup, date(year, 3, 3), 422, int(setup.activity.id), paolo)
    await _debit(setup, date(year, 5, 3), 650, int(alsh.id), amalia)
    await _debit(setup, date(year, 5, 3), 3000, int(music.id), amalia)
    await _debit(setup, date(year - 1, 12, 30), 800, int(alsh.id), paolo)  # the year before

    paper = await papers.tax_paper(setup.family_id, year)
    by_child = {c.name: c for c in paper.certificate.children}
    assert by_child["Paolo DUPONT"].garde_cents == 1600
    assert by_child["Paolo DUPONT"].repas_cents == 422
    assert by_child["Amalia DUPONT"].garde_cents == 650
    assert paper.certificate.deductible_total_cents == 2250
    text = pdf_text(
        await pdf.render_pdf(
            "tax_certificate.html",
            title="AF",
            head=paper.letterhead,
            family=paper.family,
            paper=paper,
        )
    )
    assert f"Attestation fiscale {year}" in text
    assert "200 quater B" in text
    assert euros(1600) in text and euros(650) in text and euros(2250) in text
    assert euros(422) in text  # the meals, itemised
    assert euros(3000) not in text

    # Staff set the piano as garde: it now counts; all families in one action.
    await papers.set_categories(
        await _actor(setup), int(setup.structure.id), {int(music.id): Category.GARDE}
    )
    found = await papers.structure_tax_papers(int(setup.structure.id), year)
    assert [p.family.family_id for p in found] == [setup.family_id]
    assert found[0].certificate.deductible_total_cents == 5250
    documents = await pdf.render_many(
        "tax_certificate.html",
        [{"title": "AF", "head": p.letterhead, "family": p.family, "paper": p} for p in found],
    )
    assert euros(5250) in pdf_text(documents[0])


async def test_attendance_certificate_from_reservations(db: Database) -> None:
    setup = await money_setup()
    start = today() - timedelta(days=20)
    await add_tariff(setup.activity, "A", 422, start - timedelta(days=30))
    days = [start + timedelta(days=i) for i in (0, 1, 2)]
    for day in days:
        await setup.reserve(day)
    absent = await setup.reserve(start + timedelta(days=3))
    from portal.tables import Reservation

    await Reservation.update({Reservation.absent: True}).where(Reservation.id == absent)
    await money.post_consumptions(int(setup.structure.id), today())
    paper = await papers.attendance_paper(
        setup.family_id, setup.person_id, start, start + timedelta(days=10)
    )
    [activity] = paper.certificate.activities
    assert activity.days == days
    assert activity.charged_cents == 3 * 422
    text = pdf_text(
        await pdf.render_pdf(
            "attendance.html", title="AP", head=paper.letterhead, family=paper.family, paper=paper
        )
    )
    assert "Attestation de présence" in text and "Paolo DUPONT" in text
    assert all(d.strftime("%d/%m/%Y") in text for d in days)
    assert (start + timedelta(days=3)).strftime("%d/%m/%Y") not in text
    assert euros(3 * 422) in text
