"""Histories ("Historiques") and balances ("Paiement et solde")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from portal.domain.exports.tabular import Table, csv_text
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.money import export
from portal.domain.money import rules as money_rules
from portal.domain.money import service as money
from portal.domain.money.rules import Month
from portal.domain.numbers import parse_count
from portal.pages import papers as papers_pages
from portal.pages import payments as payments_pages
from portal.pages.payments import bad_request, optional_date, today_for
from portal.web.context import Parent, ParentContext
from portal.web.render import page


def _optional_id(raw: str | None, what: str) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    value = parse_count(raw)
    if value is None:
        raise bad_request(f"Le filtre « {what} » est incorrect.")
    return value


def xlsx_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


# --- Historiques -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryQuery:
    month: Month
    day: date | None
    person_id: int | None
    activity_id: int | None

    def params(self, **changes: Any) -> str:
        values = {
            "mois": self.month.key,
            "jour": self.day.isoformat() if self.day else "",
            "prenom": self.person_id or "",
            "activite": self.activity_id or "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _history_query(
    parent: ParentContext,
    mois: str | None,
    jour: str | None,
    prenom: str | None,
    activite: str | None,
    latest: Month | None = None,
) -> HistoryQuery:
    day = optional_date(jour, "Date")
    if mois:
        try:
            month = Month.parse(mois)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
    else:
        month = Month.of(day or today_for(parent))
        if day is None and latest is not None:
            month = latest  # opens on the latest month that has lines, not an empty one
    if day is not None and Month.of(day) != month:
        month = Month.of(day)
    return HistoryQuery(
        month, day, _optional_id(prenom, "Prénom"), _optional_id(activite, "Activité")
    )


async def _load_history(parent: ParentContext, query: HistoryQuery) -> money.History:
    return await money.history(
        parent.family_id,
        query.month,
        day=query.day,
        person_id=query.person_id,
        activity_id=query.activity_id,
    )


@get("/historiques")
async def histories_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    mois: FromQuery[str | None] = None,
    jour: FromQuery[str | None] = None,
    prenom: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
) -> Template:
    latest = None if mois or jour else await money.latest_history_month(parent.family_id)
    query = _history_query(parent, mois, jour, prenom, activite, latest)
    history = await _load_history(parent, query)
    filtered = query.day is not None or query.person_id is not None or query.activity_id is not None
    return page(
        request,
        "pages/money/histories.html",
        parent,
        page_title="Historiques",
        nav_active="historiques",
        query=query,
        history=history,
        filtered=filtered,
        previous_url="/historiques?" + query.params(mois=query.month.shift(-1).key, jour=""),
        next_url="/historiques?" + query.params(mois=query.month.shift(1).key, jour=""),
        previous_label=query.month.shift(-1).label,
        next_label=query.month.shift(1).label,
        export_url="/historiques/export.csv?" + query.params(),
        export_payments_url="/historiques/export.csv?" + query.params(tableau="reglements"),
        export_xlsx_url="/historiques/export.xlsx?" + query.params(),
        export_payments_xlsx_url="/historiques/export.xlsx?" + query.params(tableau="reglements"),
        short_day=money_rules.short_day,
        documents=await papers_pages.history_documents(parent, query.month),
        consumption_columns=export.CONSUMPTION_HEADER,
        payment_columns=export.PAYMENT_HEADER,
    )


async def _history_table(
    parent: ParentContext,
    mois: str | None,
    jour: str | None,
    prenom: str | None,
    activite: str | None,
    tableau: str | None,
) -> tuple[Table, str, str]:
    """The table to export (consumptions or payments), its title and its file name stem."""
    query = _history_query(parent, mois, jour, prenom, activite)
    history = await _load_history(parent, query)
    if tableau in (None, "", "consommations"):
        table = export.consumptions_table(history.consumptions, history.consumption_total_cents)
        return table, "Consommations", f"consommations-{query.month.key}"
    if tableau == "reglements":
        table = export.payments_table(history.payments, history.payment_total_cents)
        return table, "Règlements", f"reglements-{query.month.key}"
    raise bad_request("Tableau à exporter inconnu : « consommations » ou « reglements ».")


@get("/historiques/export.csv")
async def histories_export(
    parent: Parent,
    mois: FromQuery[str | None] = None,
    jour: FromQuery[str | None] = None,
    prenom: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    tableau: FromQuery[str | None] = None,
) -> Response[bytes]:
    table, _, stem = await _history_table(parent, mois, jour, prenom, activite, tableau)
    return Response(
        content=csv_text(table).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )


@get("/historiques/export.xlsx")
async def histories_export_xlsx(
    parent: Parent,
    mois: FromQuery[str | None] = None,
    jour: FromQuery[str | None] = None,
    prenom: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    tableau: FromQuery[str | None] = None,
) -> Response[bytes]:
    table, title, stem = await _history_table(parent, mois, jour, prenom, activite, tableau)
    return xlsx_response(await xlsx_in_thread(table, title), f"{stem}.xlsx")


ROUTES = [
    histories_page,
    histories_export,
    histories_export_xlsx,
    *payments_pages.ROUTES,
]
