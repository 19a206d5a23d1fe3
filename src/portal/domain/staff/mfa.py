"""Staff second factor: TOTP (RFC 6238, pyotp) and single-use recovery codes.

Required for administrators (the back office sends them to enrolment until it is done, and
/admin/ opens only to a session that passed it), optional for agents. A code is accepted
once: the time step it matched is recorded with a conditional UPDATE, so a replayed or
raced code fails. Recovery codes are shown once and kept as SHA-256 digests (each is 50
random bits, so a fast digest is enough); using one marks it used in the same statement.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

from portal import clock
from portal.db import write_transaction
from portal.tables import StaffMember, StaffRecoveryCode, StaffTotp

ISSUER = "Portail Famille"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
# Steps either side of now that still count: a phone clock 30 s off is accepted.
VALID_WINDOW = 1


@dataclass(frozen=True)
class SecondFactor:
    enrolled: bool
    recovery_codes_left: int


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str  # an SVG as data: URI, for <img src> (the CSP allows data: images)


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code this is, within the window; None when it matches none."""
    digits = _normalise(code)
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def current_code(secret: str) -> str:
    """The code of the current step (the demo login page shows it, in demo mode only)."""
    return pyotp.TOTP(secret).at(clock.utcnow())


def enrolment_for(secret: str, login: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)
    return Enrolment(secret, uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


async def second_factor(staff_id: int) -> SecondFactor:
    row = await StaffTotp.objects().where(StaffTotp.staff == staff_id).first()
    left = await StaffRecoveryCode.count().where(
        (StaffRecoveryCode.staff == staff_id) & StaffRecoveryCode.used_at.is_null()
    )
    return SecondFactor(row is not None and row.confirmed_at is not None, int(left))


async def pending_enrolment(member: StaffMember) -> Enrolment | None:
    """The secret to scan (created on first call); None when a second factor is in use."""
    row = await StaffTotp.objects().where(StaffTotp.staff == member.id).first()
    if row is not None and row.confirmed_at is not None:
        return None
    if row is None:
        row = StaffTotp(staff=member.id, secret=pyotp.random_base32())
        await row.save()
    return enrolment_for(str(row.secret), str(member.login))


async def confirm_enrolment(staff_id: int, code: str) -> list[str] | None:
    """Turn the factor on with a first valid code; the recovery codes (shown once), or None."""
    row = await StaffTotp.objects().where(StaffTotp.staff == staff_id).first()
    if row is None or row.confirmed_at is not None:
        return None
    step = matching_step(str(row.secret), code, clock.utcnow())
    if step is None:
        return None
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    async with write_transaction():
        confirmed = await (
            StaffTotp.update({StaffTotp.confirmed_at: clock.utcnow(), StaffTotp.last_step: step})
            .where((StaffTotp.id == row.id) & StaffTotp.confirmed_at.is_null())
            .returning(StaffTotp.id)
        )
        if not confirmed:
            return None
        await StaffRecoveryCode.delete().where(StaffRecoveryCode.staff == staff_id)
        await StaffRecoveryCode.insert(
            *[StaffRecoveryCode(staff=staff_id, code_hash=_digest(c)) for c in codes]
        )
    return codes


async def verify(staff_id: int, code: str) -> bool:
    """A valid, never used TOTP code or an unused recovery code (then used up)."""
    row = await StaffTotp.objects().where(StaffTotp.staff == staff_id).first()
    if row is None or row.confirmed_at is None:
        return False
    step = matching_step(str(row.secret), code, clock.utcnow())
    if step is not None:
        # Conditional on the last accepted step: the same code twice, or a code older than
        # the last one used, never passes (even two requests racing).
        claimed = await (
            StaffTotp.update({StaffTotp.last_step: step})
            .where((StaffTotp.id == row.id) & (StaffTotp.last_step < step))
            .returning(StaffTotp.id)
        )
        return bool(claimed)
    if len(_normalise(code)) != 10:
        return False
    used = await (
        StaffRecoveryCode.update({StaffRecoveryCode.used_at: clock.utcnow()})
        .where(
            (StaffRecoveryCode.staff == staff_id)
            & (StaffRecoveryCode.code_hash == _digest(code))
            & StaffRecoveryCode.used_at.is_null()
        )
        .returning(StaffRecoveryCode.id)
    )
    return bool(used)


async def renew_recovery_codes(staff_id: int, code: str) -> list[str] | None:
    """Ten new recovery codes (the old ones stop working) after a valid code; or None."""
    if not await is_enrolled(staff_id) or not await verify(staff_id, code):
        return None
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    async with write_transaction():
        await StaffRecoveryCode.delete().where(StaffRecoveryCode.staff == staff_id)
        await StaffRecoveryCode.insert(
            *[StaffRecoveryCode(staff=staff_id, code_hash=_digest(c)) for c in codes]
        )
    return codes


async def is_enrolled(staff_id: int) -> bool:
    return await StaffTotp.exists().where(
        (StaffTotp.staff == staff_id) & StaffTotp.confirmed_at.is_not_null()
    )


async def disable(member: StaffMember, code: str) -> str | None:
    """Turn the factor off (agents only); an error message, or None when done."""
    if member.is_admin:
        return "La double authentification est obligatoire pour les administrateurs."
    if not await verify(int(member.id), code):
        return "Code incorrect ou déjà utilisé."
    async with write_transaction():
        await StaffRecoveryCode.delete().where(StaffRecoveryCode.staff == member.id)
        await StaffTotp.delete().where(StaffTotp.staff == member.id)
    return None


async def enrol_with_secret(staff_id: int, secret: str) -> None:
    """Set a known, confirmed secret (demo data and tests only)."""
    await StaffTotp.delete().where(StaffTotp.staff == staff_id)
    await StaffTotp(staff=staff_id, secret=secret, confirmed_at=clock.utcnow()).save()
