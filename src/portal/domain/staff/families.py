"""Families as staff manage them: the list, one family, the CSV import, accounts.

Initial passwords are generated here, hashed at once, and handed back to the caller to be
shown once (the credentials letters); they are never stored in clear.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import date

import asyncpg
from piccolo.columns import Varchar
from piccolo.columns.combination import Where
from piccolo.custom_types import Combinable

from portal import clock
from portal.db import is_sqlite, write_transaction
from portal.domain.accounts.credentials import initial_password, login_base, unique_login
from portal.domain.accounts.passwords import hash_password_async
from portal.domain.staff import audit
from portal.domain.staff.families_csv import (
    CsvImport,
    ImportedFamily,
    LineError,
    parse_families_csv,
)
from portal.domain.staff.service import Actor, NotFound
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    Enrollment,
    Family,
    Person,
    Structure,
    Tariff,
    Wallet,
    WalletType,
)


def _ilike(column: Varchar, pattern: str) -> Where:
    """Case-insensitive LIKE on both engines (SQLite's LIKE already ignores ASCII case)."""
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


@dataclass(frozen=True)
class FamilyRow:
    id: int
    name: str
    band: str
    file_complete: bool
    people: int
    logins: tuple[str, ...]


def _families_where(structure_id: int, query: str) -> Combinable:
    where: Combinable = Family.structure == structure_id
    if query.strip():
        where &= _ilike(Family.name, f"%{query.strip()[:60]}%")
    return where


async def count_families(structure_id: int, query: str = "") -> int:
    """How many families `families` can list for this search (one COUNT)."""
    return int(await Family.count().where(_families_where(structure_id, query)))


async def families(
    structure_id: int, query: str = "", limit: int = 300, offset: int = 0
) -> list[FamilyRow]:
    """A page of the structure's families by name (with this search)."""
    rows = await (
        Family.select(Family.id, Family.name, Family.tariff_band, Family.file_complete)
        .where(_families_where(structure_id, query))
        .order_by(Family.name)
        .order_by(Family.id)
        .limit(limit)
        .offset(offset)
    )
    ids = [int(r["id"]) for r in rows]
    people: dict[int, int] = {}
    logins: dict[int, list[str]] = {}
    if ids:
        for p in await Person.select(Person.family).where(Person.family.is_in(ids)):
            people[int(p["family"])] = people.get(int(p["family"]), 0) + 1
        for a in await (
            AccountFamily.select(AccountFamily.family, AccountFamily.account._.login)
            .where(AccountFamily.family.is_in(ids))
            .output(nested=False)
        ):
            logins.setdefault(int(a["family"]), []).append(str(a["account.login"]))
    return [
        FamilyRow(
            int(r["id"]),
            str(r["name"]),
            str(r["tariff_band"]),
            bool(r["file_complete"]),
            people.get(int(r["id"]), 0),
            tuple(sorted(logins.get(int(r["id"]), []))),
        )
        for r in rows
    ]


async def family_in(structure_id: int, family_id: int) -> Family:
    row = await Family.objects().get((Family.id == family_id) & (Family.structure == structure_id))
    if row is None:
        raise NotFound(f"famille {family_id}")
    return row


@dataclass(frozen=True)
class PersonLine:
    id: int
    name: str
    birth_date: date | None
    activities: tuple[str, ...]


@dataclass(frozen=True)
class AccountLine:
    id: int
    login: str
    display_name: str
    emails: str
    must_change_password: bool
    locked: bool
    # Also opens a family of another structure: only an administrator resets it.
    shared: bool = False


@dataclass(frozen=True)
class FamilyDetail:
    family: Family
    people: list[PersonLine]
    accounts: list[AccountLine]


async def family_detail(structure_id: int, family_id: int) -> FamilyDetail:
    family = await family_in(structure_id, family_id)
    people_rows = await (
        Person.objects().where(Person.family == family_id).order_by(Person.birth_date)
    )
    enrolments: dict[int, list[str]] = {}
    if people_rows:
        for e in await (
            Enrollment.select(Enrollment.person, Enrollment.activity._.name)
            .where(Enrollment.person.is_in([p.id for p in people_rows]))
            .output(nested=False)
        ):
            enrolments.setdefault(int(e["person"]), []).append(str(e["activity.name"]))
    accounts = await (
        AccountFamily.select(
            AccountFamily.account._.id,
            AccountFamily.account._.login,
            AccountFamily.account._.display_name,
            AccountFamily.account._.emails,
            AccountFamily.account._.must_change_password,
            AccountFamily.account._.locked_until,
        )
        .where(AccountFamily.family == family_id)
        .output(nested=False)
    )
    shared = await _shared_accounts(structure_id, [int(a["account.id"]) for a in accounts])
    now = clock.utcnow()
    return FamilyDetail(
        family,
        [
            PersonLine(
                p.id,
                f"{p.first_name} {p.last_name}",
                p.birth_date,
                tuple(sorted(enrolments.get(p.id, []))),
            )
            for p in people_rows
        ],
        [
            AccountLine(
                int(a["account.id"]),
                str(a["account.login"]),
                str(a["account.display_name"]),
                str(a["account.emails"]),
                bool(a["account.must_change_password"]),
                a["account.locked_until"] is not None and a["account.locked_until"] > now,
                int(a["account.id"]) in shared,
            )
            for a in accounts
        ],
    )


async def set_file_complete(
    actor: Actor, structure_id: int, family_id: int, complete: bool
) -> None:
    async with write_transaction():
        family = await family_in(structure_id, family_id)
        if family.file_complete == complete:
            return
        await Family.update({Family.file_complete: complete}).where(Family.id == family_id)
        await audit.record(
            actor,
            "family.file_complete",
            structure_id=structure_id,
            table="family",
            target_id=family_id,
            before={"file_complete": family.file_complete},
            after={"file_complete": complete},
        )


# --- credentials -------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """One credentials letter: shown once, never stored in clear."""

    family_name: str
    display_name: str
    login: str
    password: str
    emails: tuple[str, ...]
    people: tuple[str, ...]


class ResetRefused(PermissionError):
    """The account is not this structure's alone (French text)."""


SHARED_ACCOUNT = (
    "Ce compte donne aussi accès à une famille d'une autre structure : seul un "
    "administrateur du portail peut lui donner un nouveau mot de passe initial."
)


async def _shared_accounts(structure_id: int, account_ids: list[int]) -> set[int]:
    """The accounts among these linked to a family of another structure too."""
    if not account_ids:
        return set()
    rows = await AccountFamily.select(AccountFamily.account).where(
        AccountFamily.account.is_in(account_ids)
        & (AccountFamily.family._.structure != structure_id)
    )
    return {int(r["account"]) for r in rows}


async def reset_account(
    actor: Actor, structure_id: int, family_id: int, account_id: int
) -> Credentials:
    """A new initial password, to be changed at next login; the lock is lifted. An account
    that also opens a family of another structure is an administrator's: whoever resets it
    reads its new password and could log in to that other family (ResetRefused)."""
    family = await family_in(structure_id, family_id)
    password = initial_password()
    password_hash = await hash_password_async(password)
    async with write_transaction():
        linked = await AccountFamily.exists().where(
            (AccountFamily.account == account_id) & (AccountFamily.family == family_id)
        )
        account = await Account.objects().get(Account.id == account_id) if linked else None
        if account is None:
            raise NotFound(f"compte {account_id}")
        if not actor.is_admin and await _shared_accounts(structure_id, [account_id]):
            raise ResetRefused(SHARED_ACCOUNT)
        await Account.update(
            {
                Account.password_hash: password_hash,
                Account.must_change_password: True,
                Account.failed_logins: 0,
                Account.locked_until: None,
                # The family's open sessions end with the old password.
                Account.session_epoch: Account.session_epoch + 1,
            }
        ).where(Account.id == account_id)
        await audit.record(
            actor,
            "account.reset",
            structure_id=structure_id,
            table="account",
            target_id=account_id,
            before={"must_change_password": account.must_change_password},
            after={"must_change_password": True, "password": "nouveau mot de passe initial"},
        )
    people = await Person.select(Person.first_name).where(Person.family == family_id)
    return Credentials(
        family.name,
        account.display_name,
        account.login,
        password,
        tuple(e for e in account.emails.split(";") if e),
        tuple(str(p["first_name"]) for p in people),
    )


# --- CSV import ---------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    errors: list[LineError] = field(default_factory=list)
    letters: list[Credentials] = field(default_factory=list)
    people: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


async def _activity_names(structure_id: int) -> dict[str, int]:
    rows = await Activity.select(Activity.id, Activity.name).where(
        Activity.structure == structure_id
    )
    return {str(r["name"]): int(r["id"]) for r in rows}


async def _bands(structure_id: int) -> set[str] | None:
    rows = await (
        Tariff.select(Tariff.band).where(Tariff.activity._.structure == structure_id).distinct()
    )
    return {str(r["band"]).upper() for r in rows} or None


async def _conflicts(structure_id: int, parsed: CsvImport) -> list[LineError]:
    """What the database refuses: families already there, identifiers already taken."""
    errors: list[LineError] = []
    names = {
        " ".join(str(r["name"]).split()).casefold()
        for r in await Family.select(Family.name).where(Family.structure == structure_id)
    }
    wanted = [f.login for f in parsed.families if f.login]
    taken: set[str] = set()
    if wanted:
        taken = {
            str(r["login"]).lower()
            for r in await Account.select(Account.login).where(Account.login.is_in(wanted))
        }
    for family in parsed.families:
        if family.name.casefold() in names:
            errors.append(
                LineError(
                    family.line, f"la famille « {family.name} » existe déjà dans la structure."
                )
            )
        if family.login and family.login.lower() in taken:
            errors.append(
                LineError(family.line, f"l'identifiant « {family.login} » est déjà utilisé.")
            )
    return errors


async def _choose_logins(families_: list[ImportedFamily]) -> list[str]:
    bases = {login_base(f.name) for f in families_ if not f.login}
    taken = {f.login.lower() for f in families_ if f.login}
    for base in bases:
        rows = await Account.select(Account.login).where(_ilike(Account.login, f"{base}%"))
        taken |= {str(r["login"]).lower() for r in rows}
    logins = []
    for family in families_:
        login = family.login or unique_login(login_base(family.name), taken)
        taken.add(login.lower())
        logins.append(login)
    return logins


async def import_families(actor: Actor, structure_id: int, text: str) -> ImportOutcome:
    """Import the whole file in one transaction, or nothing with a line-by-line report."""
    parsed = parse_families_csv(
        text, await _activity_names(structure_id), await _bands(structure_id)
    )
    errors = list(parsed.errors)
    if not errors:
        errors += await _conflicts(structure_id, parsed)
    if errors:
        return ImportOutcome(sorted(errors, key=lambda e: e.line))
    logins = await _choose_logins(parsed.families)
    passwords = [initial_password() for _ in parsed.families]
    # argon2 is slow on purpose: hash in threads, before taking the write lock.
    hashes = await asyncio.gather(*(hash_password_async(p) for p in passwords))
    wallet_types = [
        int(r["id"])
        for r in await WalletType.select(WalletType.id).where(WalletType.structure == structure_id)
    ]
    try:
        return await _write_import(
            actor, structure_id, parsed, logins, passwords, list(hashes), wallet_types
        )
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        # An identifier generated above was taken meanwhile; nothing was written.
        return ImportOutcome(
            [LineError(0, "Un identifiant vient d'être pris par ailleurs : relancez l'import.")]
        )


async def _write_import(
    actor: Actor,
    structure_id: int,
    parsed: CsvImport,
    logins: list[str],
    passwords: list[str],
    hashes: list[str],
    wallet_types: list[int],
) -> ImportOutcome:
    now = clock.utcnow()
    letters: list[Credentials] = []
    people_count = 0
    async with write_transaction():
        # Re-checked under the write lock: a concurrent import cannot slip in between.
        conflicts = await _conflicts(structure_id, parsed)
        if conflicts:
            return ImportOutcome(conflicts)
        for family, login, password, password_hash in zip(
            parsed.families, logins, passwords, hashes, strict=True
        ):
            family_id = int(
                (
                    await Family.insert(
                        Family(
                            structure=structure_id,
                            name=family.name,
                            tariff_band=family.band,
                            file_complete=family.file_complete,
                            created_at=now,
                        )
                    ).returning(Family.id)
                )[0]["id"]
            )
            account_id = int(
                (
                    await Account.insert(
                        Account(
                            login=login,
                            password_hash=password_hash,
                            display_name=family.name,
                            emails=";".join(family.emails),
                            must_change_password=True,
                            created_at=now,
                        )
                    ).returning(Account.id)
                )[0]["id"]
            )
            await AccountFamily.insert(AccountFamily(account=account_id, family=family_id))
            if wallet_types:
                await Wallet.insert(
                    *[Wallet(family=family_id, wallet_type=t) for t in wallet_types]
                )
            for person in family.people:
                person_id = int(
                    (
                        await Person.insert(
                            Person(
                                family=family_id,
                                first_name=person.first_name,
                                last_name=person.last_name,
                                birth_date=person.birth_date,
                            )
                        ).returning(Person.id)
                    )[0]["id"]
                )
                if person.activity_ids:
                    await Enrollment.insert(
                        *[Enrollment(person=person_id, activity=a) for a in person.activity_ids]
                    )
                people_count += 1
            await audit.record(
                actor,
                "family.import",
                structure_id=structure_id,
                table="family",
                target_id=family_id,
                after={
                    "name": family.name,
                    "band": family.band,
                    "login": login,
                    "people": [f"{p.first_name} {p.last_name}" for p in family.people],
                },
            )
            letters.append(
                Credentials(
                    family.name,
                    family.name,
                    login,
                    password,
                    tuple(family.emails),
                    tuple(p.first_name for p in family.people),
                )
            )
    return ImportOutcome([], letters, people_count)


async def structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    return str(row["name"]) if row else ""
