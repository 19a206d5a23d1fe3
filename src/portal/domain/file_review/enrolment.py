"""Enrolment requests ("Inscriptions"): a parent asks for a child to be enrolled on an
activity for a period; staff accept (the child can then book it) or refuse with a reason.

What staff configure per activity is its `EnrolmentOffer`: open on the portal or not, the
period, the age range (in years, on the first day of the period, or today without one)
and the documents that must be valid before asking.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import asyncpg

from portal import clock
from portal.db import write_transaction
from portal.domain.family_file import rules
from portal.domain.family_file import service as family_file
from portal.domain.family_file.rules import FileError
from portal.domain.file_review.checks import notify_family
from portal.domain.numbers import parse_count
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import (
    Activity,
    DocumentType,
    Enrollment,
    EnrolmentOffer,
    EnrolmentRequest,
    Family,
    Person,
)


class RequestStatus(StrEnum):
    """Where a family's enrolment request stands (stored as the value)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    RequestStatus.PENDING: "En attente de réponse",
    RequestStatus.ACCEPTED: "Acceptée",
    RequestStatus.REFUSED: "Refusée",
    RequestStatus.CANCELLED: "Annulée",
}
_STATUS_BADGES = {
    RequestStatus.PENDING: "info",
    RequestStatus.ACCEPTED: "success",
    RequestStatus.REFUSED: "error",
}
NotFound = family_file.NotFound


@dataclass(frozen=True)
class Offer:
    activity_id: int
    activity_name: str
    is_open: bool
    period_label: str
    period_start: date | None
    period_end: date | None
    age_min: int | None
    age_max: int | None
    required_documents: tuple[str, ...]

    @property
    def period_text(self) -> str:
        if self.period_label:
            return self.period_label
        if self.period_start and self.period_end:
            return f"du {self.period_start:%d/%m/%Y} au {self.period_end:%d/%m/%Y}"
        return ""

    @property
    def ages_text(self) -> str:
        if self.age_min is not None and self.age_max is not None:
            return f"de {self.age_min} à {self.age_max} ans"
        if self.age_min is not None:
            return f"à partir de {self.age_min} ans"
        if self.age_max is not None:
            return f"jusqu'à {self.age_max} ans"
        return ""


def _codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


async def offers(structure_id: int, *, open_only: bool = False) -> list[Offer]:
    activities = await (
        Activity.select(Activity.id, Activity.name)
        .where((Activity.structure == structure_id) & (Activity.active == True))  # noqa: E712
        .order_by(Activity.position)
        .order_by(Activity.id)
    )
    rows = {
        int(o["activity"]): o
        for o in await EnrolmentOffer.select().where(
            EnrolmentOffer.activity.is_in([int(a["id"]) for a in activities] or [0])
        )
    }
    result = []
    for a in activities:
        o = rows.get(int(a["id"]))
        offer = Offer(
            int(a["id"]),
            str(a["name"]),
            bool(o["is_open"]) if o else False,
            str(o["period_label"]) if o else "",
            o["period_start"] if o else None,
            o["period_end"] if o else None,
            o["age_min"] if o else None,
            o["age_max"] if o else None,
            _codes(o["required_documents"]) if o else (),
        )
        if offer.is_open or not open_only:
            result.append(offer)
    return result


@dataclass(frozen=True)
class RequestLine:
    id: int
    family_id: int
    family_name: str
    person_id: int
    person_name: str
    activity_id: int
    activity_name: str
    period_start: date | None
    period_end: date | None
    status: RequestStatus
    reason: str
    created_at: datetime

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def pending(self) -> bool:
        return self.status is RequestStatus.PENDING

    @property
    def badge(self) -> str:
        return _STATUS_BADGES.get(self.status, "neutral")


async def _requests(where: Any) -> list[RequestLine]:
    rows = await (
        EnrolmentRequest.select(
            EnrolmentRequest.id,
            EnrolmentRequest.family,
            EnrolmentRequest.family._.name,
            EnrolmentRequest.person,
            EnrolmentRequest.person._.first_name,
            EnrolmentRequest.person._.last_name,
            EnrolmentRequest.activity,
            EnrolmentRequest.activity._.name,
            EnrolmentRequest.period_start,
            EnrolmentRequest.period_end,
            EnrolmentRequest.status,
            EnrolmentRequest.reason,
            EnrolmentRequest.created_at,
        )
        .where(where)
        .order_by(EnrolmentRequest.created_at, ascending=False)
        .output(nested=False)
    )
    return [
        RequestLine(
            id=int(r["id"]),
            family_id=int(r["family"]),
            family_name=str(r["family.name"]),
            person_id=int(r["person"]),
            person_name=f"{r['person.first_name']} {r['person.last_name']}",
            activity_id=int(r["activity"]),
            activity_name=str(r["activity.name"]),
            period_start=r["period_start"],
            period_end=r["period_end"],
            status=RequestStatus(r["status"]),
            reason=str(r["reason"] or ""),
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def family_requests(family_id: int) -> list[RequestLine]:
    return await _requests(EnrolmentRequest.family == family_id)


async def structure_requests(structure_id: int, status: str = "") -> list[RequestLine]:
    where: Any = EnrolmentRequest.family._.structure == structure_id
    if status in STATUS_LABELS:
        where &= EnrolmentRequest.status == status
    return await _requests(where)


async def _valid_codes(family_id: int, person_id: int, today: date) -> set[str]:
    """Codes of the document types valid today for this child (or for the family)."""
    facts = (await family_file.facts_of([family_id]))[family_id]
    types = {
        int(t["id"]): str(t["code"])
        for t in await DocumentType.select(DocumentType.id, DocumentType.code).where(
            DocumentType.id.is_in([d.type_id for d in facts.documents] or [0])
        )
    }
    return {
        types[d.type_id]
        for d in facts.documents
        if d.person_id in (None, person_id)
        and rules.document_status(d, today) is rules.DocumentStatus.VALID
    }


async def request_enrolment(
    family_id: int, account_id: int | None, person_id: int, activity_id: int
) -> RequestLine:
    """Ask for the child's enrolment on an open activity; FileError says why not."""
    family = await Family.objects().get(Family.id == family_id)
    person = await Person.objects().get((Person.id == person_id) & (Person.family == family_id))
    if family is None or person is None:
        raise NotFound(person_id)
    offer = next(
        (
            o
            for o in await offers(int(family.structure), open_only=True)
            if o.activity_id == activity_id
        ),
        None,
    )
    if offer is None:
        raise FileError("Les inscriptions à cette activité ne sont pas ouvertes sur le portail.")
    today = clock.utcnow().date()
    age = rules.age_on(person.birth_date, offer.period_start or today)
    if (offer.age_min is not None or offer.age_max is not None) and age is None:
        raise FileError(f"La date de naissance de {person.first_name} n'est pas connue.")
    if age is not None and (
        (offer.age_min is not None and age < offer.age_min)
        or (offer.age_max is not None and age > offer.age_max)
    ):
        raise FileError(
            f"« {offer.activity_name} » est ouverte aux enfants {offer.ages_text} : "
            f"{person.first_name} aura {age} ans."
        )
    if offer.required_documents:
        valid = await _valid_codes(family_id, person_id, today)
        missing = [c for c in offer.required_documents if c not in valid]
        if missing:
            names = {
                str(t["code"]): str(t["name"])
                for t in await DocumentType.select(DocumentType.code, DocumentType.name).where(
                    DocumentType.structure == family.structure
                )
            }
            raise FileError(
                "Avant de demander cette inscription, ces documents doivent être validés : "
                + ", ".join(names.get(c, c) for c in missing)
                + "."
            )
    if await Enrollment.exists().where(
        (Enrollment.person == person_id) & (Enrollment.activity == activity_id)
    ):
        raise FileError(f"{person.first_name} est déjà inscrit(e) à « {offer.activity_name} ».")
    try:
        async with write_transaction():
            if await EnrolmentRequest.exists().where(
                (EnrolmentRequest.person == person_id)
                & (EnrolmentRequest.activity == activity_id)
                & (EnrolmentRequest.status == RequestStatus.PENDING)
            ):
                raise FileError(
                    "Une demande est déjà en attente pour cet enfant et cette activité."
                )
            row = await EnrolmentRequest.insert(
                EnrolmentRequest(
                    family=family_id, person=person_id, activity=activity_id,
                    period_start=offer.period_start, period_end=offer.period_end,
                    status=RequestStatus.PENDING, account=account_id, created_at=clock.utcnow(),
                )
            ).returning(EnrolmentRequest.id)  # fmt: skip
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        raise FileError(
            "Une demande est déjà en attente pour cet enfant et cette activité."
        ) from None
    [line] = await _requests(EnrolmentRequest.id == int(row[0]["id"]))
    return line


async def cancel_request(family_id: int, request_id: int) -> None:
    async with write_transaction():
        updated = await (
            EnrolmentRequest.update(
                {
                    EnrolmentRequest.status: RequestStatus.CANCELLED,
                    EnrolmentRequest.decided_at: clock.utcnow(),
                }
            )
            .where(
                (EnrolmentRequest.id == request_id)
                & (EnrolmentRequest.family == family_id)
                & (EnrolmentRequest.status == RequestStatus.PENDING)
            )
            .returning(EnrolmentRequest.id)
        )
    if not updated:
        raise NotFound(request_id)


async def decide_request(
    actor: Actor, structure_id: int, request_id: int, *, accept: bool, reason: str, base_url: str
) -> RequestLine:
    """Accept (the child is enrolled and can book) or refuse with a reason; e-mailed."""
    reason = rules.refusal_reason(accept, reason)
    now = clock.utcnow()
    async with write_transaction():
        found = await _requests(
            (EnrolmentRequest.id == request_id)
            & (EnrolmentRequest.family._.structure == structure_id)
            & (EnrolmentRequest.status == RequestStatus.PENDING)
        )
        if not found:
            raise NotFound(request_id)
        line = found[0]
        status = RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED
        await EnrolmentRequest.update(
            {
                EnrolmentRequest.status: status,
                EnrolmentRequest.reason: "" if accept else reason,
                EnrolmentRequest.decided_at: now,
                EnrolmentRequest.decided_by: actor.staff_id,
            }
        ).where(EnrolmentRequest.id == request_id)
        if accept:
            await Enrollment.insert(
                Enrollment(person=line.person_id, activity=line.activity_id)
            ).on_conflict(action="DO NOTHING")
            # The family's booking scope changes: touch the family row.
            await family_file.refresh_flag(line.family_id)
        await audit.record(
            actor,
            "enrolment.accept" if accept else "enrolment.refuse",
            structure_id=structure_id,
            table="enrolment_request",
            target_id=request_id,
            after={"person": line.person_id, "activity": line.activity_name, "reason": reason},
        )
        period = ""
        if line.period_start and line.period_end:
            period = f"du {line.period_start:%d/%m/%Y} au {line.period_end:%d/%m/%Y}"
        await notify_family(
            line.family_id,
            f"enrolment-decision:{request_id}",
            "enrolment_decision",
            base_url,
            first_name=line.person_name.split(" ")[0],
            activity=line.activity_name,
            accepted=accept,
            reason=reason,
            period=period,
        )
    return line


def parse_offer(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []

    def first(name: str) -> str:
        value = data.get(name, "")
        return str(value[0] if isinstance(value, list) and value else value or "").strip()

    def age(name: str, label: str) -> int | None:
        text = first(name)
        if not text:
            return None
        years = parse_count(text)
        if years is None or years > 25:
            errors.append(f"{label} : un nombre d'années entre 0 et 25.")
            return None
        return years

    start = rules.parse_date(first("debut"), "Début de la période", errors)
    end = rules.parse_date(first("fin"), "Fin de la période", errors)
    if start and end and end < start:
        errors.append("La fin de la période est avant son début.")
    age_min, age_max = age("age_min", "Âge minimum"), age("age_max", "Âge maximum")
    if age_min is not None and age_max is not None and age_max < age_min:
        errors.append("L'âge maximum est inférieur à l'âge minimum.")
    documents = data.get("documents", [])
    documents = documents if isinstance(documents, list) else [documents]
    return {
        "is_open": first("ouvert") in ("1", "oui", "on"),
        "period_label": rules.clean_text(first("libelle"), 100),
        "period_start": start,
        "period_end": end,
        "age_min": age_min,
        "age_max": age_max,
        "required_documents": [str(d)[:40] for d in documents if str(d)],
    }, errors


async def save_offer(
    actor: Actor, structure_id: int, activity_id: int, data: dict[str, Any]
) -> list[str]:
    activity = await Activity.objects().get(
        (Activity.id == activity_id) & (Activity.structure == structure_id)
    )
    if activity is None:
        raise NotFound(activity_id)
    values, errors = parse_offer(data)
    known = {
        str(r["code"])
        for r in await DocumentType.select(DocumentType.code).where(
            DocumentType.structure == structure_id
        )
    }
    values["required_documents"] = [c for c in values["required_documents"] if c in known]
    if errors:
        return errors
    async with write_transaction():
        existing = await EnrolmentOffer.objects().get(EnrolmentOffer.activity == activity_id)
        if existing is None:
            await EnrolmentOffer.insert(EnrolmentOffer(activity=activity_id, **values))
        else:
            await EnrolmentOffer.update(dict[Any, Any](values)).where(
                EnrolmentOffer.activity == activity_id
            )
        await audit.record(
            actor,
            "enrolment.offer",
            structure_id=structure_id,
            table="enrolment_offer",
            target_id=activity_id,
            after=values,
        )
    return []


async def document_types(structure_id: int) -> list[tuple[str, str]]:
    return [
        (str(r["code"]), str(r["name"]))
        for r in await DocumentType.select(DocumentType.code, DocumentType.name)
        .where(DocumentType.structure == structure_id)
        .order_by(DocumentType.position)
    ]
