"""Second factor of staff accounts: a TOTP secret, and single-use recovery codes."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import StaffMember


class StaffTotp(Table):
    """One per staff member; in use once `confirmed_at` is set (a first code was checked)."""

    id = Serial(primary_key=True)
    staff = ForeignKey(references=StaffMember, unique=True, on_delete=OnDelete.cascade)
    secret = Varchar(length=64)  # base32, as in the otpauth:// URI
    confirmed_at = Timestamptz(null=True, default=None)
    # The last time step accepted: a code is never accepted twice (replay).
    last_step = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class StaffRecoveryCode(Table):
    """Shown once at enrolment; only a SHA-256 of each (random, 50-bit) code is kept."""

    id = Serial(primary_key=True)
    staff = ForeignKey(references=StaffMember, index=True, on_delete=OnDelete.cascade)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


MFA_TABLES: list[type[Table]] = [StaffTotp, StaffRecoveryCode]

__all__ = ["MFA_TABLES", "StaffRecoveryCode", "StaffTotp"]
