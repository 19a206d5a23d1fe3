"""The journal pages: audit entries of one structure (or all, for administrators), filtered
by person, family, kind and period, a page at a time, each linked to what it changed."""

from __future__ import annotations

import functools
import json
import operator
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import Where
from piccolo.table import Table

from portal.domain.family_file import rules as family_file_rules
from portal.domain.journal import rules
from portal.domain.paging.rules import Paging
from portal.tables import (
    AccountFamily,
    ActivityDay,
    AuditLog,
    DebtReminder,
    EnrolmentRequest,
    Family,
    FamilyDocument,
    LedgerEntry,
    Movement,
    Person,
    Reservation,
    SepaMandate,
    Structure,
)

# Tables whose rows name their family directly.
FAMILY_COLUMN: dict[str, type[Table]] = {
    "reservation": Reservation,
    "ledger_entry": LedgerEntry,
    "family_document": FamilyDocument,
    "enrolment_request": EnrolmentRequest,
    "debt_reminder": DebtReminder,
    "sepa_mandate": SepaMandate,
    "movement": Movement,
}

# Pages of a structure (under /gestion/s/{id}) that show each kind of object.
STRUCTURE_PAGES: dict[str, str] = {
    "news_item": "/actualites/{id}",
    "activity": "/activites/{id}",
    "enrolment_request": "/inscriptions",
    "enrolment_offer": "/inscriptions",
    "structure": "/transmission",
    "sepa_debit_run": "/regie/prelevement/{id}",
    "sepa_debit": "/regie/prelevement",
    "sepa_mandate": "/regie/prelevement",
    "sepa_creditor": "/regie/prelevement",
    "debt_reminder": "/regie/relances",
    "reminder_settings": "/regie/relances",
    "reminder_template": "/regie/relances",
    "structure_profile": "/regie",
    "activity_category": "/regie",
}


@dataclass(frozen=True)
class Filters:
    staff_id: int | None = None
    family_id: int | None = None
    kind: str | None = None
    first: date | None = None
    last: date | None = None
    structure_id: int | None = None  # the global journal's structure filter


@dataclass(frozen=True)
class Entry:
    id: int
    when: str
    who: str
    action: str
    kind: str
    structure_name: str | None
    family_name: str | None
    link: str | None
    link_label: str
    changes: list[rules.Change]


@dataclass(frozen=True)
class StaffPerson:
    id: int
    label: str


@dataclass(frozen=True)
class JournalPage:
    entries: list[Entry]
    paging: Paging
    people: list[StaffPerson]
    family_name: str | None


def _json(value: Any) -> dict[str, Any]:
    """A JSON column as a dict (the drivers return text or already-decoded values)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _any(clauses: list[Any]) -> Any:
    return functools.reduce(operator.or_, clauses)


async def _family_targets(family_id: int) -> Any:
    """Entries about one family: the family itself and every row it owns."""
    clauses: list[Any] = [(AuditLog.target_table == "family") & (AuditLog.target_id == family_id)]
    for name, table in FAMILY_COLUMN.items():
        ids = [
            int(r["id"])
            for r in await table.select(table._meta.primary_key.as_alias("id")).where(
                table._meta.get_column_by_name("family") == family_id
            )
        ]
        if ids:
            clauses.append((AuditLog.target_table == name) & AuditLog.target_id.is_in(ids))
    people = [
        int(r["id"]) for r in await Person.select(Person.id).where(Person.family == family_id)
    ]
    if people:
        # A child file's entries name the child (its person id), not the file's row.
        clauses.append((AuditLog.target_table == "child_file") & AuditLog.target_id.is_in(people))
    accounts = [
        int(r["account"])
        for r in await AccountFamily.select(AccountFamily.account).where(
            AccountFamily.family == family_id
        )
    ]
    if accounts:
        clauses.append((AuditLog.target_table == "account") & AuditLog.target_id.is_in(accounts))
    return _any(clauses)


async def _where(filters: Filters, structure_id: int | None, tz: ZoneInfo) -> list[Any]:
    clauses: list[Any] = []
    if structure_id is not None:
        clauses.append(AuditLog.structure == structure_id)
    if filters.staff_id is not None:
        clauses.append(AuditLog.staff == filters.staff_id)
    patterns = rules.kind_patterns(filters.kind)
    if patterns:
        clauses.append(
            _any(
                [
                    AuditLog.action.like(p) if p.endswith("%") else AuditLog.action == p
                    for p in patterns
                ]
            )
        )
    if filters.first is not None:
        clauses.append(AuditLog.created_at >= _day_start(filters.first, tz))
    if filters.last is not None:
        clauses.append(AuditLog.created_at < _day_start(filters.last + timedelta(days=1), tz))
    if filters.family_id is not None:
        clauses.append(await _family_targets(filters.family_id))
    return clauses


async def _page(
    clauses: list[Any],
    asked_page: int,
    tz: ZoneInfo,
    people_scope: Where | None,
    hidden: tuple[str, ...] = (),
) -> tuple[list[Entry], Paging, list[StaffPerson]]:
    combined = functools.reduce(operator.and_, clauses) if clauses else None
    count = AuditLog.count()
    query = AuditLog.select(
        *AuditLog.all_columns(), AuditLog.staff.display_name.as_alias("staff_name")
    ).order_by(AuditLog.created_at, AuditLog.id, ascending=False)
    if combined is not None:
        count = count.where(combined)
        query = query.where(combined)
    paging = Paging.of(asked_page, int(await count))
    rows = await query.limit(paging.size).offset(paging.offset)
    people_query = AuditLog.select(
        AuditLog.staff, AuditLog.staff_login, AuditLog.staff.display_name.as_alias("name")
    ).distinct()
    if people_scope is not None:
        people_query = people_query.where(people_scope)
    people = sorted(
        {
            StaffPerson(int(r["staff"]), f"{r['name']} ({r['staff_login']})")
            for r in await people_query
            if r["staff"] is not None
        },
        key=lambda p: p.label.lower(),
    )
    return await _entries(rows, tz, hidden), paging, people


async def _families_of(rows: list[dict[str, Any]]) -> dict[int, int]:
    """Audit entry id -> family id, where the target belongs to one family."""
    by_table: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row["target_id"] is not None:
            by_table[str(row["target_table"])].add(int(row["target_id"]))
    owner: dict[tuple[str, int], int] = {}
    for target in by_table.get("family", set()):
        owner[("family", target)] = target
    for name, table in FAMILY_COLUMN.items():
        ids = by_table.get(name)
        if ids:
            for r in await table.select(
                table._meta.primary_key.as_alias("id"),
                table._meta.get_column_by_name("family").as_alias("family"),
            ).where(table._meta.primary_key.is_in(list(ids))):
                owner[(name, int(r["id"]))] = int(r["family"])
    if by_table.get("child_file"):  # the child's person id (see _family_targets)
        for r in await Person.select(Person.id, Person.family).where(
            Person.id.is_in(list(by_table["child_file"]))
        ):
            owner[("child_file", int(r["id"]))] = int(r["family"])
    if by_table.get("account"):
        for r in await AccountFamily.select(AccountFamily.account, AccountFamily.family).where(
            AccountFamily.account.is_in(list(by_table["account"]))
        ):
            owner.setdefault(("account", int(r["account"])), int(r["family"]))
    found = {}
    for row in rows:
        if row["target_id"] is not None:
            family = owner.get((str(row["target_table"]), int(row["target_id"])))
            if family is not None:
                found[int(row["id"])] = family
    return found


async def _day_activities(rows: list[dict[str, Any]]) -> dict[int, int]:
    ids = [
        int(r["target_id"])
        for r in rows
        if r["target_table"] == "activity_day" and r["target_id"] is not None
    ]
    if not ids:
        return {}
    return {
        int(r["id"]): int(r["activity"])
        for r in await ActivityDay.select(ActivityDay.id, ActivityDay.activity).where(
            ActivityDay.id.is_in(ids)
        )
    }


def _link(
    row: dict[str, Any], family: int | None, family_name: str | None, day_activity: int | None
) -> tuple[str | None, str]:
    """Where the changed object is seen, and the words of the link."""
    table, target = str(row["target_table"]), row["target_id"]
    if table == "staff_member" and target is not None:
        return f"/gestion/comptes/{target}", "Voir le compte"
    if row["structure"] is None:
        return None, ""
    base = f"/gestion/s/{row['structure']}"
    after = _json(row["after"])
    if table in ("family_document", "child_file") and family is not None:
        return f"{base}/familles/{family}/dossier", f"Dossier de {family_name}"
    if table == "ledger_entry" and family is not None:
        return f"{base}/reglements?famille={family}", f"Règlements de {family_name}"
    if table in ("tariff", "enrollment"):
        activity = after.get("activity") if table == "tariff" else target
        if isinstance(activity, int):
            return f"{base}/activites/{activity}", "Voir l'activité"
    if table == "activity_day" and day_activity is not None:
        return f"{base}/activites/{day_activity}/journees", "Voir les journées"
    if family is not None:
        return f"{base}/familles/{family}", f"Famille {family_name}"
    page = STRUCTURE_PAGES.get(table)
    if page is not None:
        return base + page.format(id=target), "Voir"
    return None, ""


async def _documents_without_health(rows: list[dict[str, Any]]) -> set[int]:
    """The ids of the documents among these entries' targets that are of no health type
    (a document no longer found is not among them: what it was is not known)."""
    ids = {
        int(r["target_id"])
        for r in rows
        if r["target_table"] == "family_document" and r["target_id"] is not None
    }
    if not ids:
        return set()
    found = await FamilyDocument.select(
        FamilyDocument.id,
        FamilyDocument.document_type._.health.as_alias("health"),
        FamilyDocument.document_type._.required_when.as_alias("required_when"),
    ).where(FamilyDocument.id.is_in(sorted(ids)))
    return {
        int(r["id"])
        for r in found
        if not family_file_rules.tells_health(bool(r["health"]), str(r["required_when"] or ""))
    }


def _hidden_for(
    row: dict[str, Any], hidden: tuple[str, ...], open_documents: set[int]
) -> tuple[str, ...]:
    """The fields of this entry masked for a reader without health access (`hidden`: the
    health fields, empty for a reader with it): also a health document's type (« PAI »)
    and refusal reason, and the reason a child's file change was refused, which may tell
    a condition."""
    if not hidden:
        return hidden
    if row["target_table"] == "family_document" and row["target_id"] not in open_documents:
        return (*hidden, "type", "reason")
    if row["target_table"] == "child_file":
        return (*hidden, "motif")
    return hidden


async def _entries(
    rows: list[dict[str, Any]], tz: ZoneInfo, hidden: tuple[str, ...] = ()
) -> list[Entry]:
    families = await _families_of(rows)
    names = (
        {
            int(r["id"]): str(r["name"])
            for r in await Family.select(Family.id, Family.name).where(
                Family.id.is_in(sorted(set(families.values())))
            )
        }
        if families
        else {}
    )
    structures = {
        int(r["id"]): str(r["name"]) for r in await Structure.select(Structure.id, Structure.name)
    }
    days = await _day_activities(rows)
    open_documents = await _documents_without_health(rows) if hidden else set()
    entries = []
    for row in rows:
        family = families.get(int(row["id"]))
        family_name = names.get(family) if family is not None else None
        day_activity = days.get(int(row["target_id"])) if row["target_id"] is not None else None
        link, label = _link(row, family, family_name, day_activity)
        before, after = _json(row["before"]), _json(row["after"])
        who = str(row["staff_name"] or row["staff_login"])
        if row["staff_name"] and row["staff_name"] != row["staff_login"]:
            who = f"{row['staff_name']} ({row['staff_login']})"
        kind = rules.kind_of(str(row["action"]))
        entries.append(
            Entry(
                id=int(row["id"]),
                when=rules.when_text(row["created_at"], tz),
                who=who,
                action=rules.action_label(str(row["action"])),
                kind=rules.KINDS[kind][0] if kind else "",
                structure_name=structures.get(int(row["structure"]))
                if row["structure"] is not None
                else None,
                family_name=family_name,
                link=link,
                link_label=label,
                changes=rules.changes(before, after, tz, _hidden_for(row, hidden, open_documents)),
            )
        )
    return entries


async def structure_journal(
    structure_id: int, tz: ZoneInfo, filters: Filters, page: int, *, health: bool = False
) -> JournalPage:
    """Entries of one structure, newest first; a family of another structure finds none.
    Without ``health`` (the reader's health access) the values of health fields are masked."""
    family_name = None
    if filters.family_id is not None:
        family = (
            await Family.select(Family.name)
            .where((Family.id == filters.family_id) & (Family.structure == structure_id))
            .first()
        )
        family_name = str(family["name"]) if family else None
    clauses = await _where(filters, structure_id, tz)
    hidden = () if health else family_file_rules.HEALTH_FIELDS
    entries, paging, people = await _page(
        clauses, page, tz, AuditLog.structure == structure_id, hidden
    )
    return JournalPage(entries, paging, people, family_name)


async def global_journal(tz: ZoneInfo, filters: Filters, page: int) -> JournalPage:
    """Every entry (administrators), optionally of one structure; accounts and /admin too."""
    clauses = await _where(filters, filters.structure_id, tz)
    entries, paging, people = await _page(clauses, page, tz, None)
    return JournalPage(entries, paging, people, None)
