"""Core Piccolo tables. Money in integer cents, instants in UTC (Timestamptz), days as local dates.

Composite unique keys, partial indexes and capacity CHECKs that Piccolo cannot declare live
in the migrations (see migrations/), so that both engines enforce them.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.clock import DEFAULT_TIMEZONE


class Structure(Table):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    slug = Varchar(length=100, unique=True)
    contact_email = Varchar(length=254, default="")
    timezone = Varchar(length=64, default=DEFAULT_TIMEZONE)
    # Debt (positive cents) beyond which booking is blocked, all wallets together.
    debt_block_cents = Integer(null=True, default=None)
    payment_backend = Varchar(length=40, default="sandbox")
    payment_options = JSON(default="{}")
    posting_period = Varchar(length=10, default="daily")
    nightly_time = Varchar(length=5, default="02:00")
    last_transmission_at = Timestamptz(null=True, default=None)


class WalletType(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    name = Varchar(length=200)
    debt_block_cents = Integer(null=True, default=None)
    position = Integer(default=0)


class Account(Table):
    id = Serial(primary_key=True)
    login = Varchar(length=150, unique=True)
    password_hash = Varchar(length=255)
    display_name = Varchar(length=200)
    # Ordered, ";"-separated; the first one receives payment tickets.
    emails = Text(default="")
    must_change_password = Boolean(default=True)
    rgpd_version = Varchar(length=20, null=True, default=None)
    rgpd_accepted_at = Timestamptz(null=True, default=None)
    cgu_version = Varchar(length=20, null=True, default=None)
    cgu_accepted_at = Timestamptz(null=True, default=None)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Bumped when the password changes or is reset: sessions opened before stop working.
    session_epoch = Integer(default=0)


class Family(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    name = Varchar(length=200)
    tariff_band = Varchar(length=20, default="A")
    file_complete = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AccountFamily(Table):
    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    family = ForeignKey(references=Family, index=True)


class Person(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    birth_date = Date(null=True, default=None)


class Wallet(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    wallet_type = ForeignKey(references=WalletType, index=True)


class RulesDocument(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    version = Integer(default=1)
    title = Varchar(length=200)
    body = Text()
    in_force_from = Timestamptz(default=TimestamptzNow())


class RulesAcknowledgement(Table):
    id = Serial(primary_key=True)
    person = ForeignKey(references=Person, index=True)
    document = ForeignKey(references=RulesDocument, index=True)
    account = ForeignKey(references=Account)
    signer_name = Varchar(length=200)
    place = Varchar(length=200)
    signed_at = Timestamptz(default=TimestamptzNow())


class Activity(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    wallet_type = ForeignKey(references=WalletType)
    name = Varchar(length=200)
    color = Varchar(length=7, default="#1d4ed8")
    start_time = Time()
    end_time = Time()
    capacity = Integer(null=True, default=None)
    # 0 = no waitlist, NULL = unlimited.
    waitlist_capacity = Integer(null=True, default=0)
    needs_decision = Boolean(default=False)
    booking_opens_at = Timestamptz(null=True, default=None)
    # Deadline rules as short strings, parsed by portal.domain.booking.deadlines.
    booking_deadline = Varchar(length=40, default="days:1@10:00")
    cancellation_deadline = Varchar(length=40, default="days:1@10:00")
    time_entry = Boolean(default=False)
    allowed_arrivals = Varchar(length=200, default="")
    allowed_departures = Varchar(length=200, default="")
    billing_unit_minutes = Integer(null=True, default=None)
    position = Integer(default=0)
    active = Boolean(default=True)
    # Set by the year rollover: the activity of a past school year, kept as a record only
    # (portal.domain.staff.archive refuses staff changes to it, its days and bookings).
    archived_at = Timestamptz(null=True, default=None)


class Enrollment(Table):
    id = Serial(primary_key=True)
    person = ForeignKey(references=Person, index=True)
    activity = ForeignKey(references=Activity, index=True)


class Tariff(Table):
    id = Serial(primary_key=True)
    activity = ForeignKey(references=Activity, index=True)
    band = Varchar(length=20, default="A")
    unit_price_cents = Integer()
    valid_from = Date()


class ActivityDay(Table):
    id = Serial(primary_key=True)
    activity = ForeignKey(references=Activity, index=True)
    day = Date(index=True)
    is_open = Boolean(default=True)
    # Copied from the activity when the day is generated, then editable per day.
    capacity = Integer(null=True, default=None)
    waitlist_capacity = Integer(null=True, default=0)
    accepted_count = Integer(default=0)
    waitlisted_count = Integer(default=0)


class Reservation(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, index=True)
    activity_day = ForeignKey(references=ActivityDay, index=True)
    status = Varchar(length=12)
    arrival = Time(null=True, default=None)
    departure = Time(null=True, default=None)
    quantity = Integer(default=1)
    waitlist_rank = Integer(null=True, default=None)
    confirmed_at = Timestamptz(default=TimestamptzNow())
    transmitted_at = Timestamptz(null=True, default=None)
    absent = Boolean(default=False)
    absence_justified = Boolean(default=False)
    created_by = Varchar(length=10, default="parent")
    updated_at = Timestamptz(default=TimestamptzNow())


class Movement(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    reservation = ForeignKey(references=Reservation, index=True)
    kind = Varchar(length=12)
    outcome = Varchar(length=12)
    actor = Varchar(length=10, default="parent")
    created_at = Timestamptz(default=TimestamptzNow())
    transmitted_at = Timestamptz(null=True, default=None)
    reported_at = Timestamptz(null=True, default=None)


class OnlinePayment(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    account = ForeignKey(references=Account)
    email = Varchar(length=254)
    backend = Varchar(length=40)
    amounts = JSON(default="{}")
    total_cents = Integer()
    transaction_id = Varchar(length=64, unique=True)
    status = Varchar(length=12, default="created")
    bank_data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)


class LedgerEntry(Table):
    """Append-only. Credits are positive amounts, debits negative."""

    id = Serial(primary_key=True)

    wallet = ForeignKey(references=Wallet, index=True)
    family = ForeignKey(references=Family, index=True)
    kind = Varchar(length=10)
    amount_cents = Integer()
    entry_date = Date()
    label = Varchar(length=200, default="")
    person = ForeignKey(references=Person, null=True)
    activity = ForeignKey(references=Activity, null=True)
    reservation = ForeignKey(references=Reservation, null=True)
    unit_price_cents = Integer(null=True, default=None)
    quantity = Integer(null=True, default=None)
    payment_mode = Varchar(length=20, null=True, default=None)
    piece_number = Varchar(length=60, null=True, default=None)
    payer_name = Varchar(length=200, null=True, default=None)
    bank_name = Varchar(length=200, null=True, default=None)
    online_payment = ForeignKey(references=OnlinePayment, null=True)
    # Makes a replayed posting or notification a no-op.
    dedupe_key = Varchar(length=120, null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class NewsItem(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    title = Varchar(length=200)
    body = Text()
    visible_from = Timestamptz(null=True, default=None)
    visible_to = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class OutboxEmail(Table):
    id = Serial(primary_key=True)
    dedupe_key = Varchar(length=160, unique=True)
    to_addresses = Text()
    subject = Varchar(length=250)
    body_text = Text()
    body_html = Text(default="")
    status = Varchar(length=10, default="pending")
    attempts = Integer(default=0)
    last_error = Text(default="")
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class PasswordResetToken(Table):
    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class StaffMember(Table):
    id = Serial(primary_key=True)
    login = Varchar(length=150, unique=True)
    password_hash = Varchar(length=255)
    display_name = Varchar(length=200)
    is_admin = Boolean(default=False)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Bumped when the password changes: sessions opened before stop working.
    session_epoch = Integer(default=0)
    # Set by an administrator: the account can no longer log in and its sessions end.
    disabled_at = Timestamptz(null=True, default=None)
    # An initial password given by an administrator: to be replaced at the next login.
    must_change_password = Boolean(default=False)


class StaffStructure(Table):
    id = Serial(primary_key=True)
    staff = ForeignKey(references=StaffMember, index=True)
    structure = ForeignKey(references=Structure, index=True)
    # Health data of the family file (RGPD art. 9): untick for staff who do not need it
    # (the régie, the reception desk); administrators always see it.
    health_access = Boolean(default=True)
    # Roles in this structure (portal.domain.staff.roles), comma-separated; the default is
    # what an attachment allowed before roles existed.
    roles = Varchar(length=100, default="agent,regisseur,direction")


class AuditLog(Table):
    """What a staff member did (append-only): written in the transaction of the change."""

    id = Serial(primary_key=True)
    # SET NULL: deleting an account or a structure never erases what was done.
    staff = ForeignKey(references=StaffMember, null=True, index=True, on_delete=OnDelete.set_null)
    # Copied so that the entry still reads well if the staff account is deleted.
    staff_login = Varchar(length=150)
    structure = ForeignKey(references=Structure, null=True, index=True, on_delete=OnDelete.set_null)
    action = Varchar(length=60)
    target_table = Varchar(length=60, default="")
    target_id = Integer(null=True, default=None)
    before = JSON(default="{}")
    after = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


CORE_TABLES: list[type[Table]] = [
    Structure,
    WalletType,
    Account,
    Family,
    AccountFamily,
    Person,
    Wallet,
    RulesDocument,
    RulesAcknowledgement,
    Activity,
    Enrollment,
    Tariff,
    ActivityDay,
    Reservation,
    Movement,
    OnlinePayment,
    LedgerEntry,
    NewsItem,
    OutboxEmail,
    PasswordResetToken,
    StaffMember,
    StaffStructure,
    AuditLog,
]

__all__ = [
    "CORE_TABLES",
    "Account",
    "AccountFamily",
    "Activity",
    "ActivityDay",
    "AuditLog",
    "Enrollment",
    "Family",
    "LedgerEntry",
    "Movement",
    "NewsItem",
    "OnlinePayment",
    "OutboxEmail",
    "PasswordResetToken",
    "Person",
    "Reservation",
    "RulesAcknowledgement",
    "RulesDocument",
    "StaffMember",
    "StaffStructure",
    "Structure",
    "Tariff",
    "Wallet",
    "WalletType",
]
