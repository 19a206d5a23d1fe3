"""Demonstration messages and notification choices.

- dupont: a thread with the Mairie (a question, its answer, and a staff message to all
  the families of the ALSH, not read yet), and notification choices set (messages by
  e-mail and push, deadline reminders three days ahead);
- martin: a question not read yet by the staff (the back office shows the badge).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.domain.channels.rules import Kind
from portal.tables import (
    AccountFamily,
    Message,
    NotificationPreference,
    NotificationSettings,
    StaffMember,
    Structure,
)


async def _family_of(login: str, structure_id: int) -> tuple[int, int, str] | None:
    link = AccountFamily
    row = await (
        link.select(link.account, link.family, link.account.display_name)
        .where((link.account.login == login) & (link.family.structure == structure_id))
        .output(nested=False)
        .first()
    )
    if row is None:
        return None
    return int(row["account"]), int(row["family"]), str(row["account.display_name"])


async def load_messages_demo(now: datetime, structure_slug: str) -> None:
    """Write the demonstration threads (in the demo's transaction)."""
    structure = (
        await Structure.select(Structure.id, Structure.name)
        .where(Structure.slug == structure_slug)
        .first()
    )
    staff = await StaffMember.select(StaffMember.id).where(StaffMember.login == "gestion").first()
    if structure is None or staff is None:
        return
    sid, name, staff_id = int(structure["id"]), str(structure["name"]), int(staff["id"])
    dupont = await _family_of("dupont", sid)
    if dupont is not None:
        account_id, family_id, author = dupont
        asked = now - timedelta(days=3)
        answered = now - timedelta(days=2, hours=22)
        thread = [
            (True, author, "Bonjour, Paolo a rendez-vous chez l'orthophoniste mardi à 16 h 30 : "
             "je viendrai le chercher à 16 h à l'accueil du soir. Merci !", asked),
            (False, name, "Bonjour Monsieur Dupont, c'est noté, l'équipe du périscolaire est "
             "prévenue. Bonne journée.", answered),
            (False, name, "Sortie au parc de mercredi annulée (alerte météo) : les enfants "
             "restent au centre, le programme est affiché à l'accueil.", now - timedelta(hours=2)),
        ]  # fmt: skip
        for index, (from_family, who, body, at) in enumerate(thread):
            unread = index == len(thread) - 1
            await Message(
                structure=sid, family=family_id, from_family=from_family,
                account=account_id if from_family else None,
                staff=None if from_family else staff_id, author_name=who, body=body,
                broadcast_key="demo-sortie" if unread else "", created_at=at,
                read_at=None if unread else at + timedelta(minutes=40),
            ).save()  # fmt: skip
        choices = {
            Kind.MESSAGE: (True, True),
            Kind.DEADLINE_REMINDER: (True, False),
            Kind.LOW_BALANCE: (True, True),
            Kind.BOOKING_REPORT: (True, False),
            Kind.PAYMENT_TICKET: (True, False),
        }
        for kind, (email, push) in choices.items():
            await NotificationPreference(
                account=account_id, kind=kind.value, email=email, push=push, updated_at=now
            ).save()
        await NotificationSettings(
            account=account_id, deadline_lead_hours=72, updated_at=now
        ).save()
    martin = await _family_of("martin", sid)
    if martin is not None:
        account_id, family_id, author = martin
        await Message(
            structure=sid, family=family_id, from_family=True, account=account_id,
            author_name=author, created_at=now - timedelta(hours=5),
            body="Bonjour, pouvez-vous m'envoyer le détail de ma dette ? Je souhaite la régler "
            "en deux fois. Cordialement.",
        ).save()  # fmt: skip


__all__ = ["load_messages_demo"]
