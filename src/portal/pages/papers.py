"""The parent's papers (PDF), from "Historiques": monthly statements, payment receipts, the
yearly tax certificate and attendance certificates. Only the family's own papers: any
other id is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from portal.domain.money.rules import Month
from portal.domain.numbers import parse_count
from portal.domain.papers import pdf
from portal.domain.papers import rules as paper_rules
from portal.domain.papers import service as papers
from portal.pages.payments import bad_request, optional_date, today_for
from portal.web.context import Parent, ParentContext

MAX_ID = 2**31 - 1


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        status_code=200,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "private, no-store",
        },
    )


def _not_found() -> NotFoundException:
    return NotFoundException("Ce document n'existe pas ou n'est pas accessible avec votre compte.")


@dataclass(frozen=True)
class HistoryDocuments:
    """What the "Documents" block of Historiques links to, for the month shown."""

    month: Month
    wallets: list[papers.WalletChoice]
    tax_year: int
    children: list[papers.ChildChoice]
    default_first: date
    default_last: date


async def history_documents(parent: ParentContext, month: Month) -> HistoryDocuments:
    today = today_for(parent)
    return HistoryDocuments(
        month=month,
        wallets=await papers.family_wallets(parent.family_id),
        tax_year=paper_rules.tax_year_available(today),
        children=await papers.family_children(parent.family_id),
        default_first=month.first_day,
        default_last=min(month.last_day, today),
    )


def _month(raw: str) -> Month:
    try:
        return Month.parse(raw)
    except ValueError as exc:
        raise bad_request(str(exc)) from None


@get("/historiques/releve/{wallet_id:int}/{mois:str}")
async def statement_pdf(
    parent: Parent, wallet_id: FromPath[int], mois: FromPath[str]
) -> Response[bytes]:
    month = _month(mois)
    if month > Month.of(today_for(parent)):
        raise bad_request("Le relevé d'un mois à venir n'existe pas encore.")
    if not 0 < wallet_id <= MAX_ID:
        raise _not_found()
    try:
        paper = await papers.statement_paper(parent.family_id, wallet_id, month)
    except papers.NotFound:
        raise _not_found() from None
    content = await pdf.render_pdf(
        "statement.html",
        title=f"Relevé de compte {month.label}",
        head=paper.letterhead,
        family=paper.family,
        paper=paper,
        modes=papers.PAYMENT_MODES,
    )
    slug = paper_rules.file_slug(paper.wallet_name)
    return pdf_response(content, f"releve-{month.key}-{slug}.pdf")


@get("/historiques/recu/{entry_id:int}")
async def receipt_pdf(parent: Parent, entry_id: FromPath[int]) -> Response[bytes]:
    if not 0 < entry_id <= MAX_ID:
        raise _not_found()
    try:
        paper = await papers.receipt_paper(parent.family_id, entry_id)
    except papers.NotFound:
        raise _not_found() from None
    content = await pdf.render_pdf(
        "receipt.html",
        title=f"Reçu de paiement {paper.number}",
        head=paper.letterhead,
        family=paper.family,
        paper=paper,
    )
    return pdf_response(content, f"recu-{paper.number}.pdf")


@get("/historiques/attestation-fiscale/{annee:int}")
async def tax_certificate_pdf(parent: Parent, annee: FromPath[int]) -> Response[bytes]:
    available = paper_rules.tax_year_available(today_for(parent))
    if not 2000 <= annee <= available:
        raise bad_request(
            f"L'attestation fiscale {annee} n'est pas disponible : la dernière est celle de "
            f"{available}, disponible depuis le 1er janvier {available + 1}."
        )
    paper = await papers.tax_paper(parent.family_id, annee)
    content = await pdf.render_pdf(
        "tax_certificate.html",
        title=f"Attestation fiscale {annee}",
        head=paper.letterhead,
        family=paper.family,
        paper=paper,
    )
    return pdf_response(content, f"attestation-fiscale-{annee}.pdf")


@get("/historiques/attestation-presence")
async def attendance_pdf(
    parent: Parent,
    enfant: FromQuery[str | None] = None,
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Response[bytes]:
    raw = (enfant or "").strip()
    person_id = parse_count(raw)
    if person_id is None:
        raise bad_request("Choisissez l'enfant concerné par l'attestation.")
    first = optional_date(du, "Du")
    last = optional_date(au, "Au")
    if first is None or last is None:
        raise bad_request("Indiquez le début et la fin de la période à attester.")
    try:
        paper = await papers.attendance_paper(parent.family_id, person_id, first, last)
    except papers.NotFound:
        raise _not_found() from None
    except paper_rules.PeriodError as exc:
        raise bad_request(str(exc)) from None
    content = await pdf.render_pdf(
        "attendance.html",
        title="Attestation de présence",
        head=paper.letterhead,
        family=paper.family,
        paper=paper,
    )
    slug = paper_rules.file_slug(paper.certificate.person_name)
    return pdf_response(content, f"attestation-presence-{slug}-{first:%Y%m%d}-{last:%Y%m%d}.pdf")


ROUTES = [statement_pdf, receipt_pdf, tax_certificate_pdf, attendance_pdf]
