"""Enfant malade use cases: declare an absence on a booked day (with an optional
certificate), list what staff have to decide, decide, and each structure's setting.

The certificate goes through the family file's upload checks (content sniffed as PDF,
JPEG or PNG, size limit) and storage (outside the web root, random key); the family is
told of the decision by e-mail through the outbox, in the decision's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.absences import rules
from portal.domain.absences.rules import AbsenceError, AbsencePolicy, AbsenceStatus
from portal.domain.errors import NotFound
from portal.domain.family_file import rules as file_rules
from portal.domain.family_file import service as family_file
from portal.domain.file_review import health_access
from portal.domain.file_review.checks import notify_family
from portal.domain.french_dates import long_date
from portal.domain.money import service as money
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import AbsenceDeclaration, AbsenceSettings, Reservation, Structure

HORIZON_DAYS = 14  # how far ahead the declaration page lists booked days (a sick child)


class AbsenceNotFound(NotFound):
    """Not a reservation, declaration or certificate of this family or structure."""


# --- the structure's setting ------------------------------------------------------------


async def policy_of(structure_id: int) -> AbsencePolicy:
    row = await AbsenceSettings.objects().get(AbsenceSettings.structure == structure_id)
    if row is None:
        return AbsencePolicy()
    return AbsencePolicy.from_minutes(row.same_morning, row.same_morning_until_minutes)


async def save_policy(actor: Actor, structure_id: int, policy: AbsencePolicy) -> None:
    """Record the structure's same-morning setting (audited)."""
    async with write_transaction():
        before = await policy_of(structure_id)
        values: dict[Any, Any] = {
            AbsenceSettings.same_morning: policy.same_morning,
            AbsenceSettings.same_morning_until_minutes: policy.until_minutes,
            AbsenceSettings.updated_at: clock.utcnow(),
        }
        existing = await AbsenceSettings.exists().where(AbsenceSettings.structure == structure_id)
        if existing:
            await AbsenceSettings.update(values).where(AbsenceSettings.structure == structure_id)
        else:
            await AbsenceSettings.insert(
                AbsenceSettings(
                    structure=structure_id,
                    same_morning=policy.same_morning,
                    same_morning_until_minutes=policy.until_minutes,
                )
            )
        await audit.record(
            actor,
            "absences.settings",
            structure_id=structure_id,
            table="absence_settings",
            before={"same_morning": before.same_morning, "until": f"{before.until:%H:%M}"},
            after={"same_morning": policy.same_morning, "until": f"{policy.until:%H:%M}"},
        )


# --- the parent's side ----------------------------------------------------------------


@dataclass(frozen=True)
class BookedDay:
    """An accepted booking the parent may declare an absence on (or has)."""

    reservation_id: int
    day: date
    person_id: int
    person: str
    activity: str
    status: AbsenceStatus | None  # None: no absence declared
    refusal: str | None  # why it cannot be declared now (None: it can)


_RES_COLUMNS = (
    Reservation.id,
    Reservation.status,
    Reservation.family,
    Reservation.person,
    Reservation.activity_day._.day,
    Reservation.activity_day._.activity._.name,
    Reservation.activity_day._.activity._.structure,
    Reservation.person._.first_name,
)


async def _declared(reservation_ids: list[int]) -> dict[int, AbsenceStatus]:
    if not reservation_ids:
        return {}
    rows = await AbsenceDeclaration.select(
        AbsenceDeclaration.reservation, AbsenceDeclaration.status
    ).where(AbsenceDeclaration.reservation.is_in(reservation_ids))
    return {int(r["reservation"]): AbsenceStatus(r["status"]) for r in rows}


async def _structure_tz(structure_id: int) -> str:
    row = await Structure.select(Structure.timezone).where(Structure.id == structure_id).first()
    if row is None:
        raise AbsenceNotFound(structure_id)
    return str(row["timezone"])


async def booked_days(
    family_id: int, structure_id: int, now: datetime | None = None, day: date | None = None
) -> list[BookedDay]:
    """The family's accepted bookings with their absence: of one day (asked from the
    calendar), or from today to two weeks ahead."""
    now = now or clock.utcnow()
    tz = clock.zone(await _structure_tz(structure_id))
    now_local = now.astimezone(tz)
    today = now_local.date()
    first, last = (day, day) if day else (today, today + timedelta(days=HORIZON_DAYS))
    rows = await (
        Reservation.select(*_RES_COLUMNS)
        .where(
            (Reservation.family == family_id)
            & (Reservation.status == "accepted")
            & (Reservation.activity_day._.day >= first)
            & (Reservation.activity_day._.day <= last)
        )
        .order_by(Reservation.activity_day._.day)
        .output(nested=False)
    )
    declared = await _declared([int(r["id"]) for r in rows])
    policy = await policy_of(structure_id)
    result = []
    for r in rows:
        day = clock.as_date(r["activity_day.day"])
        status = declared.get(int(r["id"]))
        refusal = rules.declaration_refusal(
            day=day,
            status=str(r["status"]),
            already_declared=status is not None,
            now_local=now_local,
            policy=policy,
        )
        result.append(
            BookedDay(
                int(r["id"]), day, int(r["person"]), str(r["person.first_name"]),
                str(r["activity_day.activity.name"]), status, refusal,
            )
        )  # fmt: skip
    return sorted(result, key=lambda b: (b.day, b.person, b.activity))


async def declared_days(
    family_id: int, structure_id: int, now: datetime | None = None
) -> list[BookedDay]:
    """The family's bookings from today on with an absence declared, however far ahead."""
    now = now or clock.utcnow()
    today = now.astimezone(clock.zone(await _structure_tz(structure_id))).date()
    ids = [
        int(r["reservation"])
        for r in await AbsenceDeclaration.select(AbsenceDeclaration.reservation).where(
            (AbsenceDeclaration.family == family_id)
            & (AbsenceDeclaration.reservation._.activity_day._.day >= today)
        )
    ]
    if not ids:
        return []
    rows = await (
        Reservation.select(*_RES_COLUMNS)
        .where(Reservation.id.is_in(ids) & (Reservation.family == family_id))
        .output(nested=False)
    )
    declared = await _declared(ids)
    days = [
        BookedDay(
            int(r["id"]), clock.as_date(r["activity_day.day"]), int(r["person"]),
            str(r["person.first_name"]), str(r["activity_day.activity.name"]),
            declared.get(int(r["id"])), "Une absence est déjà signalée pour ce jour.",
        )
        for r in rows
    ]  # fmt: skip
    return sorted(days, key=lambda b: (b.day, b.person, b.activity))


@dataclass(frozen=True)
class Certificate:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Declared:
    id: int
    day: date
    person: str
    activity: str


async def declare(
    documents_dir: Path,
    family_id: int,
    account_id: int | None,
    reservation_id: int,
    note: str,
    certificate: Certificate | None = None,
    now: datetime | None = None,
) -> Declared:
    """Declare the child absent on one of the family's accepted bookings."""
    now = now or clock.utcnow()
    clean = rules.clean_note(note)
    checked: tuple[str, str] | None = None
    if certificate is not None:
        try:
            checked = file_rules.check_upload(certificate.content)
        except file_rules.FileError as exc:
            raise AbsenceError(str(exc)) from None
    key = ""
    if certificate is not None:
        key = await family_file.store_upload(documents_dir, certificate.content)
    try:
        async with write_transaction():
            row = await (
                Reservation.select(*_RES_COLUMNS)
                .where((Reservation.id == reservation_id) & (Reservation.family == family_id))
                .output(nested=False)
                .first()
            )
            if row is None:
                raise AbsenceNotFound(reservation_id)
            structure_id = int(row["activity_day.activity.structure"])
            tz = clock.zone(await _structure_tz(structure_id))
            day = clock.as_date(row["activity_day.day"])
            refusal = rules.declaration_refusal(
                day=day,
                status=str(row["status"]),
                already_declared=bool(await _declared([reservation_id])),
                now_local=now.astimezone(tz),
                policy=await policy_of(structure_id),
            )
            if refusal:
                raise AbsenceError(refusal)
            if certificate is not None:
                try:
                    await family_file.check_upload_quota(family_id, len(certificate.content), now)
                except file_rules.FileError as exc:
                    raise AbsenceError(str(exc)) from None
            inserted = await AbsenceDeclaration.insert(
                AbsenceDeclaration(
                    family=family_id,
                    reservation=reservation_id,
                    person=int(row["person"]),
                    declared_at=now,
                    declared_by=account_id,
                    note=clean,
                    certificate_key=key,
                    certificate_name=file_rules.safe_filename(certificate.filename, checked[1])
                    if certificate and checked
                    else "",
                    certificate_type=checked[0] if checked else "",
                    certificate_size=len(certificate.content) if certificate else 0,
                    status=AbsenceStatus.DECLARED.value,
                )
            ).returning(AbsenceDeclaration.id)
    except BaseException:
        if key:  # no orphan file when the declaration is not written
            family_file.document_path(documents_dir, key).unlink(missing_ok=True)
        raise
    return Declared(
        int(inserted[0]["id"]), day, str(row["person.first_name"]),
        str(row["activity_day.activity.name"]),
    )  # fmt: skip


async def absence_statuses(reservation_ids: list[int]) -> dict[int, AbsenceStatus]:
    """The declared absence of each of these reservations (for the calendar)."""
    return await _declared(reservation_ids)


@dataclass(frozen=True)
class StoredCertificate:
    filename: str
    content_type: str
    path: Path


async def _certificate(documents_dir: Path, row: AbsenceDeclaration | None) -> StoredCertificate:
    if row is None or not row.certificate_key:
        raise AbsenceNotFound("justificatif")
    path = family_file.document_path(documents_dir, row.certificate_key)
    if not path.is_file():
        raise AbsenceNotFound("justificatif")
    return StoredCertificate(row.certificate_name, row.certificate_type, path)


async def structure_certificate(
    actor: Actor, documents_dir: Path, structure_id: int, declaration_id: int
) -> StoredCertificate:
    """A sick child's certificate is health data: only a member with health access opens
    it (HealthDenied otherwise), and each opening is audited like a document's."""
    row = await AbsenceDeclaration.objects().get(
        (AbsenceDeclaration.id == declaration_id)
        & (AbsenceDeclaration.reservation._.activity_day._.activity._.structure == structure_id)
    )
    certificate = await _certificate(documents_dir, row)
    if not await health_access.has_health_access(actor, structure_id):
        raise health_access.HealthDenied(health_access.DENIED)
    async with write_transaction():
        await audit.record(
            actor, "absence.certificate_view", structure_id=structure_id,
            table="absence_declaration", target_id=declaration_id,
        )  # fmt: skip
    return certificate


# --- the staff's side -------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingAbsence:
    id: int
    day: date
    person: str
    family: str
    activity: str
    declared_at: datetime
    note: str  # "" for a reader without health access
    has_certificate: bool
    certificate_name: str
    has_note: bool = False


async def waiting_absences(
    structure_id: int, limit: int = 200, *, health: bool
) -> list[WaitingAbsence]:
    """Declared absences of the structure still waiting for a decision, by day. The
    parent's note and the certificate's name say what the child has (« gastro »): for a
    reader without health access (`health` false), neither is given, only whether there is
    a certificate."""
    rows = await (
        AbsenceDeclaration.select(
            AbsenceDeclaration.id,
            AbsenceDeclaration.declared_at,
            AbsenceDeclaration.note,
            AbsenceDeclaration.certificate_key,
            AbsenceDeclaration.certificate_name,
            AbsenceDeclaration.reservation._.activity_day._.day,
            AbsenceDeclaration.reservation._.activity_day._.activity._.name,
            AbsenceDeclaration.person._.first_name,
            AbsenceDeclaration.person._.last_name,
            AbsenceDeclaration.family._.name,
        )
        .where(
            (AbsenceDeclaration.status == AbsenceStatus.DECLARED.value)
            & (AbsenceDeclaration.reservation._.activity_day._.activity._.structure == structure_id)
        )
        .order_by(AbsenceDeclaration.reservation._.activity_day._.day)
        .order_by(AbsenceDeclaration.id)
        .limit(limit)
        .output(nested=False)
    )
    return [
        WaitingAbsence(
            id=int(r["id"]),
            day=clock.as_date(r["reservation.activity_day.day"]),
            person=f"{r['person.last_name']} {r['person.first_name']}",
            family=str(r["family.name"]),
            activity=str(r["reservation.activity_day.activity.name"]),
            declared_at=r["declared_at"],
            note=str(r["note"]) if health else "",
            has_certificate=bool(r["certificate_key"]),
            certificate_name=str(r["certificate_name"]) if health else "",
            has_note=bool(r["note"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AbsenceDecided:
    status: AbsenceStatus
    credited: int  # ledger credits written at once (a day already debited)
    message: str


async def decide(
    actor: Actor, structure_id: int, declaration_id: int, *, justified: bool, base_url: str
) -> AbsenceDecided:
    """Accept a declared absence as justified (not billed) or not; e-mail the family."""
    async with write_transaction():
        row = await (
            AbsenceDeclaration.select(
                AbsenceDeclaration.id,
                AbsenceDeclaration.status,
                AbsenceDeclaration.family,
                AbsenceDeclaration.reservation,
                AbsenceDeclaration.reservation._.activity_day._.day,
                AbsenceDeclaration.reservation._.activity_day._.activity._.name,
                AbsenceDeclaration.person._.first_name,
            )
            .where(
                (AbsenceDeclaration.id == declaration_id)
                & (
                    AbsenceDeclaration.reservation._.activity_day._.activity._.structure
                    == structure_id
                )
            )
            .output(nested=False)
            .first()
        )
        if row is None:
            raise AbsenceNotFound(declaration_id)
        current = AbsenceStatus(row["status"])
        status = rules.decide(current, justified)
        # Conditional on the status still being "declared": two agents deciding at once
        # cannot both win (the second one's update touches nothing).
        updated = await (
            AbsenceDeclaration.update(
                {
                    AbsenceDeclaration.status: status.value,
                    AbsenceDeclaration.decided_at: clock.utcnow(),
                    AbsenceDeclaration.decided_by: actor.login,
                }
            )
            .where(
                (AbsenceDeclaration.id == declaration_id)
                & (AbsenceDeclaration.status == AbsenceStatus.DECLARED.value)
            )
            .returning(AbsenceDeclaration.id)
        )
        if not updated:
            raise AbsenceError("Cette absence a déjà été traitée.")
        absent, absence_justified = status.flags
        await Reservation.update(
            {
                Reservation.absent: absent,
                Reservation.absence_justified: absence_justified,
                Reservation.updated_at: clock.utcnow(),
            }
        ).where(Reservation.id == int(row["reservation"]))
        await audit.record(
            actor,
            "absences.decide",
            structure_id=structure_id,
            table="absence_declaration",
            target_id=declaration_id,
            before={"status": current.value},
            after={"status": status.value},
        )
        day = clock.as_date(row["reservation.activity_day.day"])
        await notify_family(
            int(row["family"]),
            f"absence-decision:{declaration_id}",
            "absence_decision",
            base_url,
            justified=justified,
            person=str(row["person.first_name"]),
            activity=str(row["reservation.activity_day.activity.name"]),
            day=long_date(day),
        )
        credited = await money.credit_unbillable(structure_id) if justified else 0
    person = str(row["person.first_name"])
    message = (
        f"Absence de {person} du {day:%d/%m/%Y} acceptée comme justifiée : non facturée."
        if justified
        else f"Absence de {person} du {day:%d/%m/%Y} non justifiée : le jour reste facturé."
    )
    return AbsenceDecided(status, credited, message)


def until_choices() -> list[str]:
    """Times offered for the same-morning limit, every half hour from 06:00 to 12:00."""
    return [f"{time(h, m):%H:%M}" for h in range(6, 13) for m in (0, 30) if (h, m) <= (12, 0)]
