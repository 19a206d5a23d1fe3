"""A second login for the other parent of a family: each adult may have their own
identifier, seeing the same family. The initial password is shown once, never stored."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from portal import clock
from portal.db import write_transaction
from portal.domain.accounts.credentials import initial_password, login_base, unique_login
from portal.domain.accounts.passwords import hash_password
from portal.domain.family_file import rules as file_rules
from portal.domain.family_file.rules import FileError
from portal.domain.staff import audit
from portal.domain.staff.families import Credentials, family_in
from portal.domain.staff.service import Actor, NotFound
from portal.tables import Account, AccountFamily, HouseholdAdult, Person


async def add_login(actor: Actor, structure_id: int, family_id: int, adult_id: int) -> Credentials:
    """Create a login for an adult of the household (linked to the same family)."""
    family = await family_in(structure_id, family_id)
    adult = await HouseholdAdult.objects().get(
        (HouseholdAdult.id == adult_id) & (HouseholdAdult.family == family_id)
    )
    if adult is None:
        raise NotFound(f"adulte {adult_id}")
    if adult.account is not None:
        raise FileError(f"{adult.first_name} {adult.last_name} a déjà son propre identifiant.")
    email = adult.email if file_rules.EMAIL_RE.match(adult.email or "") else ""
    display = f"{adult.last_name.upper()} {adult.first_name}"
    base = login_base(display)
    taken = {
        str(r["login"])
        for r in await Account.select(Account.login).where(Account.login.like(f"{base}%"))
    }
    login = unique_login(base, taken)
    password = initial_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with write_transaction():
            account_id = int(
                (
                    await Account.insert(
                        Account(
                            login=login, password_hash=password_hash, display_name=display,
                            emails=email, must_change_password=True, created_at=clock.utcnow(),
                        )
                    ).returning(Account.id)
                )[0]["id"]
            )  # fmt: skip
            await AccountFamily.insert(AccountFamily(account=account_id, family=family_id))
            await HouseholdAdult.update({HouseholdAdult.account: account_id}).where(
                HouseholdAdult.id == adult_id
            )
            await audit.record(
                actor,
                "account.add_login",
                structure_id=structure_id,
                table="account",
                target_id=account_id,
                after={"login": login, "family": family_id, "adult": adult_id},
            )
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        raise FileError("Cet identifiant vient d'être pris : recommencez.") from None
    people = await Person.select(Person.first_name).where(Person.family == family_id)
    return Credentials(
        family.name, display, login, password, (email,) if email else (),
        tuple(str(p["first_name"]) for p in people),
    )  # fmt: skip
