"""Online card payments: start a payment, take the bank's verified notification, credit the
wallets exactly once, show the outcome, e-mail the ticket.

The browser's return to the portal never changes anything: only a notification verified by
the backend (or, for PayFiP, an answer of its web service) does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.accounts.rules import parse_emails
from portal.domain.channels import service as channels
from portal.domain.channels.rules import Kind
from portal.domain.money import rules as money_rules
from portal.domain.money import service as money
from portal.domain.money_format import format_euros
from portal.domain.outbox.service import queue_mail
from portal.domain.payments import rules
from portal.domain.payments.backends import (
    Backend,
    BackendError,
    BankAnswer,
    NotificationRejected,
    PaymentRequest,
    Redirection,
    make_backend,
)
from portal.domain.push import service as push
from portal.mail import Mail
from portal.settings import Settings
from portal.tables import LedgerEntry, OnlinePayment, Wallet

log = logging.getLogger(__name__)

BANK_NAME = money.ONLINE_PAYMENT_LABEL
STATUS_CHECK_EVERY = timedelta(seconds=15)


class PaymentError(ValueError):
    """The payment cannot be started (French message for the parent)."""


class NotFound(errors.NotFound):
    """No such payment for this family."""


class Rejected(ValueError):
    """A notification that was not accepted (nothing changed)."""


@dataclass(frozen=True)
class PaymentUrls:
    """Where the platform sends the parent back and where it notifies us."""

    site_url: str  # the portal as the parent's browser sees it
    notify_site_url: str  # the portal as the platform's servers reach it

    def return_url(self, payment_id: int) -> str:
        return f"{self.site_url.rstrip('/')}/paiement/retour/{payment_id}"

    def notify_url(self, payment_id: int) -> str:
        return f"{self.notify_site_url.rstrip('/')}/paiement/notification/{payment_id}"


@dataclass(frozen=True)
class StartedPayment:
    payment_id: int
    total_cents: int
    backend_label: str
    redirection: Redirection


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else {}


def sandbox_allowed(settings: Settings, options: dict[str, Any]) -> bool:
    """The sandbox pays without money: never on an https (production) site unless the
    structure asks for it explicitly (a staging site), always in demo mode."""
    return (
        settings.demo_mode
        or not settings.base_url.startswith("https://")
        or options.get("allow_sandbox") is True
    )


def backend_for(kind: str, options: dict[str, Any], settings: Settings, site_url: str) -> Backend:
    return make_backend(kind, options, secret_key=settings.secret_key, site_url=site_url)


async def payment_settings(family_id: int, settings: Settings) -> tuple[str, str, bool]:
    """(backend kind, label shown to parents, available) for the family's structure."""
    family = await money.family_row(family_id)
    kind = family.payment_backend or rules.SANDBOX
    options = _json(family.payment_options)
    try:
        backend = backend_for(kind, options, settings, settings.base_url)
    except BackendError:
        return kind, kind, False
    available = kind not in (rules.SANDBOX, "dummy") or sandbox_allowed(settings, options)
    return kind, backend.label, available


async def start_payment(
    *,
    family_id: int,
    account_id: int,
    amounts: dict[int, int],
    email: str,
    urls: PaymentUrls,
    settings: Settings,
) -> StartedPayment:
    """Record a payment (status "created") and ask the platform where to send the parent."""
    family = await money.family_row(family_id)
    kind = family.payment_backend or rules.SANDBOX
    options = _json(family.payment_options)
    if kind in (rules.SANDBOX, "dummy") and not sandbox_allowed(settings, options):
        raise PaymentError(
            "Le paiement en ligne n'est pas encore ouvert pour cette structure : "
            "contactez nos services."
        )
    try:
        backend = backend_for(kind, options, settings, urls.site_url)
    except BackendError as exc:
        log.error("structure %s : %s", family.structure_id, exc)
        raise PaymentError(
            "Le paiement en ligne est mal configuré : contactez nos services."
        ) from exc
    wallets = {w.wallet_id for w in await money.wallet_balances(family_id)}
    if set(amounts) - wallets:
        raise NotFound("porte-monnaie")
    amounts = {w: c for w, c in amounts.items() if c != 0}
    if any(c < 0 for c in amounts.values()):
        raise PaymentError("Un montant ne peut pas être négatif.")
    total = sum(amounts.values())
    if total <= 0:
        raise PaymentError("Indiquez le montant de votre règlement pour au moins un porte-monnaie.")
    limits = backend.limits
    if not money_rules.within_limits(total, limits.minimum_cents, limits.maximum_cents):
        raise PaymentError(money_rules.limits_message(limits.minimum_cents, limits.maximum_cents))
    addresses, errors = parse_emails(email)
    if errors or len(addresses) != 1:
        raise PaymentError(
            errors[0] if errors else "Indiquez une seule adresse e-mail pour recevoir le ticket."
        )
    now = clock.utcnow()
    payment = OnlinePayment(
        family=family_id,
        account=account_id,
        email=addresses[0],
        backend=kind,
        amounts={str(w): c for w, c in sorted(amounts.items())},
        total_cents=total,
        transaction_id=f"pending-{uuid.uuid4().hex}",
        status=rules.CREATED,
        bank_data={},
        created_at=now,
        updated_at=now,
    )
    await payment.save()
    payment_id = int(payment.id)
    reference = rules.make_reference(payment_id, now.astimezone(clock.zone(None)))
    request = PaymentRequest(
        amount_cents=total,
        email=addresses[0],
        reference=reference,
        subject=f"{family.structure_name} famille {family.name}",
        return_url=urls.return_url(payment_id),
        notify_url=urls.notify_url(payment_id),
    )
    try:
        transaction_id, redirection = await asyncio.to_thread(backend.request, request)
    except BackendError as exc:
        log.error("paiement %s : la plateforme refuse la demande : %s", payment_id, exc)
        await OnlinePayment.update(
            {
                OnlinePayment.status: rules.ERROR,
                OnlinePayment.bank_data: {"reference": reference, "error": str(exc)[:500]},
                OnlinePayment.updated_at: clock.utcnow(),
            }
        ).where(OnlinePayment.id == payment_id)
        raise PaymentError(
            "La plateforme de paiement n'a pas pu enregistrer votre demande : "
            "réessayez dans quelques minutes."
        ) from exc
    await OnlinePayment.update(
        {
            OnlinePayment.transaction_id: transaction_id[:64],
            OnlinePayment.bank_data: {"reference": reference},
            OnlinePayment.updated_at: clock.utcnow(),
        }
    ).where(OnlinePayment.id == payment_id)
    return StartedPayment(payment_id, total, backend.label, redirection)


# --- notifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationResult:
    status: str  # the payment's status after the notification
    changed: bool
    content: str  # what the platform expects as the HTTP answer


async def _payment_row(payment_id: int) -> dict[str, Any]:
    row = (
        await OnlinePayment.select(
            *OnlinePayment.all_columns(),
            OnlinePayment.family._.name,
            OnlinePayment.family._.structure._.name,
            OnlinePayment.family._.structure._.timezone,
            OnlinePayment.family._.structure._.payment_options,
        )
        .where(OnlinePayment.id == payment_id)
        .output(nested=False)
        .first()
    )
    if row is None:
        raise NotFound(payment_id)
    return row


async def handle_notification(
    payment_id: int,
    query_string: str,
    *,
    settings: Settings,
    site_url: str,
    client_ip: str | None = None,
) -> NotificationResult:
    """Verify a platform's server-to-server notification and apply it (idempotent)."""
    payment = await _payment_row(payment_id)
    options = _json(payment["family.structure.payment_options"])
    allowed_ips = options.get("allowed_notify_ips")
    if allowed_ips and client_ip not in allowed_ips:
        log.warning("paiement %s : notification refusée depuis %s", payment_id, client_ip)
        raise Rejected("origine non autorisée")
    backend = backend_for(str(payment["backend"]), options, settings, site_url)
    try:
        answer = await asyncio.to_thread(
            backend.response, query_string, str(payment["transaction_id"])
        )
    except (NotificationRejected, BackendError) as exc:
        log.warning("paiement %s : notification illisible : %s", payment_id, exc)
        raise Rejected(str(exc)) from exc
    if not answer.signed:
        log.warning("paiement %s : notification non signée ignorée", payment_id)
        raise Rejected("notification non signée")
    if not answer.matches(str(payment["transaction_id"])):
        log.warning(
            "paiement %s : la notification concerne une autre transaction (%s)",
            payment_id,
            answer.order_id,
        )
        raise Rejected("transaction inconnue")
    status, changed = await apply_answer(payment, answer, settings)
    return NotificationResult(status, changed, answer.return_content or "OK")


async def refresh_from_backend(payment_id: int, *, settings: Settings, site_url: str) -> None:
    """For platforms that can be asked (PayFiP), ask about a payment still waiting."""
    payment = await _payment_row(payment_id)
    if payment["status"] != rules.CREATED or str(payment["transaction_id"]).startswith("pending-"):
        return
    options = _json(payment["family.structure.payment_options"])
    backend = backend_for(str(payment["backend"]), options, settings, site_url)
    if not backend.has_status:
        return
    now = clock.utcnow()
    claimed = await (
        OnlinePayment.update({OnlinePayment.updated_at: now})
        .where(
            (OnlinePayment.id == payment_id)
            & (OnlinePayment.status == rules.CREATED)
            & (OnlinePayment.updated_at < now - STATUS_CHECK_EVERY)
        )
        .returning(OnlinePayment.id)
    )
    if not claimed:  # asked a moment ago, by this page or another
        return
    try:
        answer = await asyncio.to_thread(
            backend.status, str(payment["transaction_id"]), payment["created_at"]
        )
    except BackendError as exc:
        log.warning("paiement %s : consultation impossible : %s", payment_id, exc)
        return
    if answer.matches(str(payment["transaction_id"])) or answer.order_id == "":
        await apply_answer(payment, answer, settings)


async def apply_answer(
    payment: dict[str, Any], answer: BankAnswer, settings: Settings
) -> tuple[str, bool]:
    """Move the payment to the answer's status; on "paid" credit each wallet once."""
    payment_id = int(payment["id"])
    new = answer.status
    if new == rules.PAID and answer.amount_cents not in (None, payment["total_cents"]):
        log.error(
            "paiement %s : montant notifié %s différent du montant demandé %s",
            payment_id,
            answer.amount_cents,
            payment["total_cents"],
        )
        new = rules.ERROR
    if new == rules.WAITING:
        return str(payment["status"]), False
    now = clock.utcnow()
    bank_data = {**_json(payment["bank_data"]), **answer.bank_data, "piece": answer.reference}
    async with write_transaction():
        if new == rules.PAID:
            condition = OnlinePayment.status != rules.PAID
        else:
            condition = OnlinePayment.status == rules.CREATED
        # The conditional UPDATE is the lock: of many identical notifications, one wins.
        won = await (
            OnlinePayment.update(
                {
                    OnlinePayment.status: new,
                    OnlinePayment.bank_data: bank_data,
                    OnlinePayment.updated_at: now,
                    **({OnlinePayment.paid_at: now} if new == rules.PAID else {}),
                }
            )
            .where((OnlinePayment.id == payment_id) & condition)
            .returning(OnlinePayment.id)
        )
        if won and new == rules.PAID:
            await _credit_wallets(payment, answer.reference, now)
            # The ticket is queued with the credit: both happen, or neither.
            await _queue_ticket(payment_id)
    if not won:
        current = (
            await OnlinePayment.select(OnlinePayment.status)
            .where(OnlinePayment.id == payment_id)
            .first()
        )
        return str(current["status"]) if current else str(payment["status"]), False
    log.info("paiement %s : %s", payment_id, new)
    return new, True


async def _credit_wallets(payment: dict[str, Any], reference: str, now: datetime) -> None:
    payment_id = int(payment["id"])
    family_id = int(payment["family"])
    amounts = {int(w): int(c) for w, c in _json(payment["amounts"]).items() if int(c) > 0}
    owned = {
        int(r["id"])
        for r in await Wallet.select(Wallet.id).where(
            (Wallet.family == family_id) & Wallet.id.is_in(list(amounts) or [0])
        )
    }
    day = now.astimezone(ZoneInfo(str(payment["family.structure.timezone"]))).date()
    entries = [
        LedgerEntry(
            wallet=wallet_id,
            family=family_id,
            kind=money_rules.CREDIT,
            amount_cents=cents,
            entry_date=day,
            label=rules.ONLINE_CREDIT_LABEL,
            payment_mode="CB",
            piece_number=reference[:60],
            payer_name=str(payment["family.name"])[:200],
            bank_name=BANK_NAME,
            online_payment=payment_id,
            dedupe_key=money_rules.online_payment_key(payment_id, wallet_id),
        )
        for wallet_id, cents in sorted(amounts.items())
        if wallet_id in owned
    ]
    if entries:
        await LedgerEntry.insert(*entries).on_conflict(action="DO NOTHING")


# --- what the parent sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentView:
    payment_id: int
    status: str
    total_cents: int
    email: str
    created_at: datetime
    paid_at: datetime | None
    piece: str
    wallets: list[tuple[str, int]]

    @property
    def status_label(self) -> str:
        return rules.STATUS_LABELS.get(self.status, self.status)

    @property
    def is_final(self) -> bool:
        return self.status in rules.FINAL_STATUSES


async def payment_view(payment_id: int, family_id: int) -> PaymentView:
    """One payment of the family (NotFound for anybody else's)."""
    row = (
        await OnlinePayment.select(*OnlinePayment.all_columns())
        .where((OnlinePayment.id == payment_id) & (OnlinePayment.family == family_id))
        .first()
    )
    if row is None:
        raise NotFound(payment_id)
    amounts = {int(w): int(c) for w, c in _json(row["amounts"]).items()}
    names = {
        int(r["id"]): str(r["wallet_type.name"])
        for r in await Wallet.select(Wallet.id, Wallet.wallet_type.name)
        .where(Wallet.family == family_id)
        .output(nested=False)
    }
    return PaymentView(
        payment_id=int(row["id"]),
        status=str(row["status"]),
        total_cents=int(row["total_cents"]),
        email=str(row["email"]),
        created_at=row["created_at"],
        paid_at=row["paid_at"],
        piece=str(_json(row["bank_data"]).get("piece") or ""),
        wallets=[(names.get(w, "Porte-monnaie"), c) for w, c in sorted(amounts.items())],
    )


def ticket(
    *,
    structure_name: str,
    family_name: str,
    paid_at: datetime,
    timezone: str,
    piece: str,
    wallets: list[tuple[str, int]],
    total_cents: int,
    to: str,
) -> Mail:
    local = paid_at.astimezone(ZoneInfo(timezone))
    lines = [
        "Bonjour,",
        "",
        f"Votre paiement par carte bancaire a bien été reçu par {structure_name}.",
        "",
        f"Famille : {family_name}",
        f"Date : {local:%d/%m/%Y} à {local:%H:%M}",
        f"N° de transaction : {piece}",
        "Porte-monnaie crédité(s) :",
        *[f"  - {name} : {format_euros(cents)}" for name, cents in wallets],
        f"Montant total : {format_euros(total_cents)}",
        "",
        "Ce règlement apparaît dans « Historiques », tableau « Historique des règlements ».",
        "Aucune donnée de carte bancaire n'est conservée par le portail.",
        "",
        "Ce message est envoyé automatiquement, merci de ne pas y répondre.",
    ]
    return Mail(to=[to], subject=f"Ticket de paiement - {structure_name}", text="\n".join(lines))


async def _queue_ticket(payment_id: int) -> None:
    """Write the payment ticket to the outbox (inside the crediting transaction)."""
    row = await _payment_row(payment_id)
    view = await payment_view(payment_id, int(row["family"]))
    mail = ticket(
        structure_name=str(row["family.structure.name"]),
        family_name=str(row["family.name"]),
        paid_at=view.paid_at or clock.utcnow(),
        timezone=str(row["family.structure.timezone"]),
        piece=view.piece,
        wallets=view.wallets,
        total_cents=view.total_cents,
        to=view.email,
    )
    family_id = int(row["family"])
    await push.queue_push(
        Kind.PAYMENT_TICKET,
        family_id,
        f"payment-ticket:{payment_id}",
        "Paiement reçu",
        f"Votre paiement de {format_euros(view.total_cents)} a bien été reçu.",
        "/historiques",
    )
    # The ticket goes to the address typed at payment, unless the paying account turned
    # payment-ticket e-mails off in its profile.
    payer = int(row["account"]) if row.get("account") else None
    people = (await channels.recipients([family_id], Kind.PAYMENT_TICKET))[family_id]
    if any(p.account_id == payer and not p.email for p in people):
        return
    await queue_mail(f"payment-ticket:{payment_id}", mail)
