"""Account use cases: login, first login, profile, password reset, structure switch."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread

from portal import clock
from portal.db import is_sqlite, write_transaction
from portal.domain import errors
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import (
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from portal.tables import (
    Account,
    Family,
    PasswordResetToken,
    Person,
    RulesAcknowledgement,
    RulesDocument,
    Structure,
)


class NotFound(errors.NotFound):
    """The row does not exist or does not belong to the account."""


@dataclass(frozen=True)
class LoginOutcome:
    account_id: int | None
    error: str | None = None
    session_epoch: int = 0


@dataclass(frozen=True)
class FamilyChoice:
    family_id: int
    family_name: str
    structure_id: int
    structure_name: str
    structure_timezone: str
    last_transmission_at: datetime | None
    # The family's and its structure's booking-data versions as read with the account
    # (portal.domain.booking.scope): a request that writes nothing checks its cached
    # booking scope against them instead of reading them again.
    scope_versions: tuple[int, int, int] | None = None


GENERIC_LOGIN_ERROR = "Identifiant ou mot de passe incorrect."


# Longest password accepted at login: the longest one could ever be set, so nobody is cut
# off, and nothing is truncated (longer input is refused as it stands).
LOGIN_PASSWORD_MAX = 1024


async def authenticate(login: str, password: str) -> LoginOutcome:
    """Check a login and password (throttling is the caller's); same cost for unknown logins."""
    login = login.strip()
    row = await Account.objects().where(Account.login == login).first() if login else None
    too_long = len(password) > LOGIN_PASSWORD_MAX
    stored = row.password_hash if row is not None and not too_long else None
    # Unknown login or oversize input: verify against the dummy hash, for the same timing.
    ok = await verify_password_async(stored, password[:LOGIN_PASSWORD_MAX])
    if row is None or not ok:
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    values: dict[Any, Any] = {
        Account.failed_logins: 0,
        Account.locked_until: None,
        Account.last_login_at: clock.utcnow(),
    }
    if needs_rehash(row.password_hash):
        values[Account.password_hash] = await hash_password_async(password)
    await Account.update(values).where(Account.id == row.id)
    return LoginOutcome(row.id, session_epoch=int(row.session_epoch))


async def session_epoch(account_id: int) -> int:
    """The account's current session epoch (sessions carrying another one are over)."""
    return int((await get_account(account_id)).session_epoch)


async def get_account(account_id: int) -> Account:
    # Raw SQL into the table class: every request of a logged-in parent reads its account,
    # and Piccolo's query building cost more than the query.
    rows = await Account.raw("SELECT * FROM account WHERE id = {}", account_id)
    if not rows:
        raise NotFound(account_id)
    return Account(**rows[0], _exists_in_db=True)


async def account_and_families(account_id: int) -> tuple[Account, list[FamilyChoice]]:
    """The account and the families it may see, in one query: every request of a logged-in
    parent needs both, and a second round trip (with the transaction that kept the two on
    one connection) cost as much as the reads."""
    rows = await Account.raw(
        "SELECT a.*, f.id AS f_family_id, f.name AS f_family_name,"
        " s.id AS f_structure_id, s.name AS f_structure_name,"
        " s.timezone AS f_structure_timezone, s.last_transmission_at AS f_last_transmission_at,"
        " (SELECT version FROM scope_version WHERE kind = 'f' AND owner = f.id) AS f_version,"
        " (SELECT version FROM scope_version WHERE kind = 's' AND owner = s.id) AS s_version"
        " FROM account a LEFT JOIN account_family af ON af.account = a.id"
        " LEFT JOIN family f ON f.id = af.family LEFT JOIN structure s ON s.id = f.structure"
        " WHERE a.id = {} ORDER BY af.id",
        account_id,
    )
    if not rows:
        raise NotFound(account_id)
    first = rows[0]
    columns = {column._meta.db_column_name for column in Account._meta.columns}
    account = Account(**{k: v for k, v in first.items() if k in columns}, _exists_in_db=True)
    families = [
        FamilyChoice(
            family_id=int(r["f_family_id"]),
            family_name=r["f_family_name"],
            structure_id=int(r["f_structure_id"]),
            structure_name=r["f_structure_name"],
            structure_timezone=r["f_structure_timezone"],
            last_transmission_at=clock.as_utc(r["f_last_transmission_at"]),
            scope_versions=(
                int(r["f_version"] or 0),
                int(r["s_version"] or 0),
                int(r["f_structure_id"]),
            ),
        )
        for r in rows
        if r["f_family_id"] is not None
    ]
    return account, families


async def family_for_account(account_id: int, family_id: int) -> FamilyChoice:
    """The family if the account may see it; NotFound otherwise (another family's id)."""
    _, families = await account_and_families(account_id)
    for choice in families:
        if choice.family_id == family_id:
            return choice
    raise NotFound(family_id)


def onboarding_step(account: Account) -> str | None:
    """The first-login step still to do: 'password', 'terms', or None."""
    if account.must_change_password:
        return "password"
    if account.rgpd_version != rules.RGPD_VERSION or account.cgu_version != rules.CGU_VERSION:
        return "terms"
    return None


async def password_errors_async(password: str, confirmation: str, account: Account) -> list[str]:
    """The password policy, off the event loop (zxcvbn is pure Python, up to ~100 ms)."""
    return await anyio.to_thread.run_sync(
        lambda: rules.password_errors(password, confirmation, account.login, [account.display_name])
    )


async def set_new_password(account_id: int, password: str, confirmation: str) -> list[str]:
    """First login or reset: store a new password when it follows the rules."""
    account = await get_account(account_id)
    errors = await password_errors_async(password, confirmation, account)
    if await verify_password_async(account.password_hash, password):
        errors.append("Le nouveau mot de passe doit être différent de l'ancien.")
    if errors:
        return errors
    await Account.update(
        {
            Account.password_hash: await hash_password_async(password),
            Account.must_change_password: False,
            Account.password_changed_at: clock.utcnow(),
            Account.failed_logins: 0,
            Account.locked_until: None,
            # Every session opened before ends; the caller carries its own one over.
            Account.session_epoch: Account.session_epoch + 1,
        }
    ).where(Account.id == account_id)
    return []


async def change_password(
    account_id: int, current: str, password: str, confirmation: str
) -> list[str]:
    account = await get_account(account_id)
    if not await verify_password_async(account.password_hash, current):
        return ["Le mot de passe actuel est incorrect."]
    return await set_new_password(account_id, password, confirmation)


async def accept_terms(account_id: int, rgpd: bool, cgu: bool) -> list[str]:
    errors = []
    if not rgpd:
        errors.append("Cochez la case indiquant que vous avez pris connaissance du RGPD.")
    if not cgu:
        errors.append("Cochez la case indiquant que vous acceptez les conditions d'utilisation.")
    if errors:
        return errors
    now = clock.utcnow()
    await Account.update(
        {
            Account.rgpd_version: rules.RGPD_VERSION,
            Account.rgpd_accepted_at: now,
            Account.cgu_version: rules.CGU_VERSION,
            Account.cgu_accepted_at: now,
        }
    ).where(Account.id == account_id)
    return []


async def update_emails(account_id: int, raw: str) -> tuple[list[str], list[str]]:
    """Replace the account's e-mails; returns (saved addresses, errors)."""
    addresses, errors = rules.parse_emails(raw)
    if not addresses and not errors:
        errors.append("Indiquez au moins une adresse e-mail.")
    if errors:
        return addresses, errors
    await Account.update({Account.emails: rules.join_emails(addresses)}).where(
        Account.id == account_id
    )
    return addresses, []


# --- rules document ("règlement intérieur") -------------------------------------------


@dataclass(frozen=True)
class PendingSignature:
    person_id: int
    person_name: str
    document_id: int
    document_title: str
    document_version: int
    document_body: str


async def current_rules_document(structure_id: int) -> RulesDocument | None:
    return await (
        RulesDocument.objects()
        .where(
            (RulesDocument.structure == structure_id)
            & (RulesDocument.in_force_from <= clock.utcnow())
        )
        .order_by(RulesDocument.version, ascending=False)
        .first()
    )


async def pending_signatures(family_id: int) -> list[PendingSignature]:
    """Children of the family who have not signed the rules document in force."""
    return [
        PendingSignature(
            person_id=sheet.person_id,
            person_name=sheet.person_name,
            document_id=sheet.document_id,
            document_title=sheet.document_title,
            document_version=sheet.document_version,
            document_body=sheet.document_body,
        )
        for sheet in await rules_sheets(family_id)
        if not sheet.signed
    ]


@dataclass(frozen=True)
class RulesSheet:
    """One child's rules "fiche": the document in force and, once signed, the signature."""

    person_id: int
    first_name: str
    person_name: str
    document_id: int
    document_title: str
    document_version: int
    document_body: str
    signed_at: datetime | None = None
    signer_name: str = ""
    place: str = ""

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


async def rules_sheets(family_id: int) -> list[RulesSheet]:
    """Every child of the family with the rules in force, signed or not (first names order)."""
    family = await Family.objects().where(Family.id == family_id).first()
    if family is None:
        raise NotFound(family_id)
    document = await current_rules_document(family.structure)
    if document is None:
        return []
    people = await Person.objects().where(Person.family == family_id).order_by(Person.first_name)
    signatures = {
        int(r["person"]): r
        for r in await RulesAcknowledgement.select(
            RulesAcknowledgement.person,
            RulesAcknowledgement.signed_at,
            RulesAcknowledgement.signer_name,
            RulesAcknowledgement.place,
        ).where(
            (RulesAcknowledgement.document == document.id)
            & RulesAcknowledgement.person.is_in([p.id for p in people] or [0])
        )
    }
    sheets = []
    for p in people:
        signature = signatures.get(p.id)
        sheets.append(
            RulesSheet(
                person_id=p.id,
                first_name=p.first_name,
                person_name=f"{p.first_name} {p.last_name}",
                document_id=document.id,
                document_title=document.title,
                document_version=document.version,
                document_body=document.body,
                signed_at=signature["signed_at"] if signature else None,
                signer_name=str(signature["signer_name"]) if signature else "",
                place=str(signature["place"]) if signature else "",
            )
        )
    return sheets


async def sign_rules(
    account_id: int,
    family_id: int,
    person_id: int,
    document_id: int,
    signer_name: str,
    place: str,
    acknowledged: bool,
) -> list[str]:
    pending = {p.person_id: p for p in await pending_signatures(family_id)}
    if person_id not in pending:
        person = (
            await Person.objects()
            .where((Person.id == person_id) & (Person.family == family_id))
            .first()
        )
        if person is None:
            raise NotFound(person_id)
        return []  # already signed: signing twice changes nothing
    if pending[person_id].document_id != document_id:
        return ["Le règlement a changé entre-temps : relisez la nouvelle version avant de signer."]
    errors = []
    if not acknowledged:
        errors.append("Cochez la case pour attester avoir pris connaissance du règlement.")
    if len(signer_name.strip()) < 3:
        errors.append("Saisissez vos nom et prénom pour signer.")
    if len(place.strip()) < 2:
        errors.append("Indiquez le lieu de la signature (« Fait à »).")
    if errors:
        return errors
    await RulesAcknowledgement.insert(
        RulesAcknowledgement(
            person=person_id,
            document=document_id,
            account=account_id,
            signer_name=signer_name.strip()[:200],
            place=place.strip()[:200],
            signed_at=clock.utcnow(),
        )
    )
    return []


# --- forgotten password --------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_password_reset(login: str, email: str, base_url: str, valid_minutes: int) -> bool:
    """Queue the reset e-mail when login and e-mail match an account; whether it was queued.

    The caller answers the same way in both cases, so nobody learns whether they matched;
    the relay wake is after-commit work, which the caller may hold until after its response
    (`portal.db.collect_after_commit(run_at_exit=False)`).
    """
    from portal.domain.notifications.service import password_reset_email
    from portal.domain.outbox.service import queue_email

    account = await Account.objects().where(Account.login == login.strip()).first()
    if account is None:
        return False
    known = {a.lower() for a in rules.split_emails(account.emails)}
    if email.strip().lower() not in known:
        return False
    now = clock.utcnow()
    token = secrets.token_urlsafe(32)
    mail = password_reset_email(
        account.display_name, f"{base_url}/reinitialiser/{token}", valid_minutes
    )
    # Token and e-mail commit together: a token is never left without its message.
    async with write_transaction():
        # The account's row is locked first (SQLite: the write lock already is), so that
        # concurrent requests see each other's tokens: the spacing holds under a burst.
        if not is_sqlite():
            await Account.raw("SELECT id FROM account WHERE id = {} FOR UPDATE", account.id)
        recent = [
            made
            for row in await PasswordResetToken.select(PasswordResetToken.created_at).where(
                (PasswordResetToken.account == account.id)
                & (PasswordResetToken.created_at > now - rules.RESET_DAY)
            )
            if (made := clock.as_utc(row["created_at"])) is not None
        ]
        if not rules.may_send_reset(recent, now):
            # Anyone who knows a parent's login and address could otherwise fill their
            # mailbox; the page answers the same, and the link already sent still works.
            return False
        # The account's old tokens (expired a day ago and more) go: the table stays small.
        await PasswordResetToken.delete().where(
            (PasswordResetToken.account == account.id)
            & (PasswordResetToken.expires_at < now - rules.RESET_DAY)
        )
        await PasswordResetToken.insert(
            PasswordResetToken(
                account=account.id,
                token_hash=_token_hash(token),
                expires_at=now + timedelta(minutes=valid_minutes),
                created_at=now,
            )
        )
        return await queue_email(
            f"password-reset:{_token_hash(token)}",
            [email.strip()],
            mail.subject,
            mail.text,
            mail.html,
        )


async def reset_token_account(token: str) -> int | None:
    """The account of a valid, unused, unexpired token."""
    row = await (
        PasswordResetToken.objects()
        .where(PasswordResetToken.token_hash == _token_hash(token))
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at <= clock.utcnow():
        return None
    return int(row.account)


async def reset_password(token: str, password: str, confirmation: str) -> list[str]:
    account_id = await reset_token_account(token)
    if account_id is None:
        return ["Ce lien n'est plus valable : il a expiré ou a déjà servi. Refaites une demande."]
    account = await get_account(account_id)
    errors = await password_errors_async(password, confirmation, account)
    if errors:
        return errors
    password_hash = await hash_password_async(password)  # before the write lock is taken
    now = clock.utcnow()
    async with write_transaction():
        # Claiming the token in the same transaction makes a double submit use it once.
        claimed = await (
            PasswordResetToken.update({PasswordResetToken.used_at: now})
            .where(
                (PasswordResetToken.token_hash == _token_hash(token))
                & PasswordResetToken.used_at.is_null()
            )
            .returning(PasswordResetToken.id)
        )
        if not claimed:
            return ["Ce lien a déjà servi. Refaites une demande si besoin."]
        await PasswordResetToken.update({PasswordResetToken.used_at: now}).where(
            (PasswordResetToken.account == account_id) & PasswordResetToken.used_at.is_null()
        )
        await Account.update(
            {
                Account.password_hash: password_hash,
                Account.must_change_password: False,
                Account.password_changed_at: now,
                Account.failed_logins: 0,
                Account.locked_until: None,
                Account.session_epoch: Account.session_epoch + 1,  # ends every session
            }
        ).where(Account.id == account_id)
    return []


async def structure_of(family_id: int) -> Structure:
    family = await Family.objects().where(Family.id == family_id).first()
    row = (
        None if family is None else await Structure.objects().get(Structure.id == family.structure)
    )
    if row is None:
        raise NotFound(family_id)
    return row


async def family_people(family_id: int) -> list[Person]:
    return await Person.objects().where(Person.family == family_id).order_by(Person.first_name)
