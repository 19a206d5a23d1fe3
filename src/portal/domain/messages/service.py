"""Messages between a family and its structure: the thread of each side, attachments
stored like the family's documents, unread counts, staff broadcasts, and the family told
of each staff message through the channels it chose (e-mail, push)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from piccolo.query.functions.aggregate import Count

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.booking.scope import LIVE_STATUSES
from portal.domain.channels.rules import Kind
from portal.domain.family_file import rules as file_rules
from portal.domain.family_file import service as family_file
from portal.domain.messages import rules
from portal.domain.messages.rules import Audience, MessageError
from portal.domain.notifications.service import family_addresses, portal_url, render_email
from portal.domain.outbox.service import queue_email
from portal.domain.push import service as push
from portal.tables import (
    Activity,
    Enrollment,
    Family,
    Message,
    MessageAttachment,
    Reservation,
    Structure,
)

log = logging.getLogger(__name__)

__all__ = ["MessageError"]


class NotFound(errors.NotFound):
    """No such thread, message or attachment for this family or structure."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    content_type: str
    size: int

    @property
    def size_label(self) -> str:
        return f"{max(1, round(self.size / 1024))} Ko"


@dataclass(frozen=True)
class MessageView:
    id: int
    from_family: bool
    author_name: str
    body: str
    created_at: datetime
    read: bool
    broadcast: bool
    attachments: tuple[AttachmentView, ...]


@dataclass(frozen=True)
class ThreadSummary:
    family_id: int
    family_name: str
    last_at: datetime
    last_excerpt: str
    last_from_family: bool
    unread: int


@dataclass(frozen=True)
class StoredAttachment:
    filename: str
    content_type: str
    path: Path


# --- reading ----------------------------------------------------------------------------------


async def _views(family_id: int) -> list[MessageView]:
    rows = await Message.select().where(Message.family == family_id).order_by(Message.id)
    ids = [int(r["id"]) for r in rows]
    files: dict[int, list[AttachmentView]] = {}
    if ids:
        for a in await MessageAttachment.select().where(MessageAttachment.message.is_in(ids)):
            files.setdefault(int(a["message"]), []).append(
                AttachmentView(int(a["id"]), a["filename"], a["content_type"], int(a["size"]))
            )
    return [
        MessageView(
            id=int(r["id"]),
            from_family=bool(r["from_family"]),
            author_name=str(r["author_name"]),
            body=str(r["body"]),
            created_at=r["created_at"],
            read=r["read_at"] is not None,
            broadcast=bool(r["broadcast_key"]),
            attachments=tuple(files.get(int(r["id"]), [])),
        )
        for r in rows
    ]


async def family_thread(family_id: int, *, mark_read: bool = True) -> list[MessageView]:
    """The family's thread, oldest first; the structure's messages become read."""
    views = await _views(family_id)
    if mark_read and any(not v.from_family and not v.read for v in views):
        async with write_transaction():
            await Message.update({Message.read_at: clock.utcnow()}).where(
                (Message.family == family_id)
                & (Message.from_family == False)  # noqa: E712
                & Message.read_at.is_null()
            )
    return views


async def _family_in(structure_id: int, family_id: int) -> str:
    row = (
        await Family.select(Family.name)
        .where((Family.id == family_id) & (Family.structure == structure_id))
        .first()
    )
    if row is None:
        raise NotFound(family_id)
    return str(row["name"])


async def staff_thread(
    structure_id: int, family_id: int, *, mark_read: bool = True
) -> tuple[str, list[MessageView]]:
    """A family's thread for its structure's staff (the family's messages become read)."""
    name = await _family_in(structure_id, family_id)
    views = await _views(family_id)
    if mark_read and any(v.from_family and not v.read for v in views):
        async with write_transaction():
            await Message.update({Message.read_at: clock.utcnow()}).where(
                (Message.family == family_id)
                & (Message.from_family == True)  # noqa: E712
                & Message.read_at.is_null()
            )
    return name, views


async def unread_for_family(family_id: int) -> int:
    return int(
        await Message.count().where(
            (Message.family == family_id)
            & (Message.from_family == False)  # noqa: E712
            & Message.read_at.is_null()
        )
    )


async def unread_for_structure(structure_id: int) -> int:
    return int(
        await Message.count().where(
            (Message.structure == structure_id)
            & (Message.from_family == True)  # noqa: E712
            & Message.read_at.is_null()
        )
    )


async def structure_threads(structure_id: int) -> list[ThreadSummary]:
    """Every family of the structure with messages, the most recent first."""
    unread = {
        int(r["family"]): int(r["n"])
        for r in await Message.select(Message.family, Count(Message.id, alias="n"))
        .where(
            (Message.structure == structure_id)
            & (Message.from_family == True)  # noqa: E712
            & Message.read_at.is_null()
        )
        .group_by(Message.family)
    }
    rows = await (
        Message.select(
            Message.id,
            Message.family,
            Message.family.name,
            Message.body,
            Message.created_at,
            Message.from_family,
        )
        .where(Message.structure == structure_id)
        .order_by(Message.id, ascending=False)
        .output(nested=False)
    )
    seen: dict[int, ThreadSummary] = {}
    for r in rows:
        family_id = int(r["family"])
        if family_id in seen:
            continue
        seen[family_id] = ThreadSummary(
            family_id,
            str(r["family.name"]),
            r["created_at"],
            rules.excerpt(str(r["body"])),
            bool(r["from_family"]),
            unread.get(family_id, 0),
        )
    return list(seen.values())


# --- writing ----------------------------------------------------------------------------------


async def _store(documents_dir: Path, upload: Upload | None) -> tuple[str, str, str, int] | None:
    """Check and store an attachment with the family documents' rules; (name, type, key,
    size), or None without a file."""
    if upload is None:
        return None
    content_type, extension = file_rules.check_upload(upload.content)
    key = await family_file.store_upload(documents_dir, upload.content)
    return (
        file_rules.safe_filename(upload.filename, extension),
        content_type,
        key,
        len(upload.content),
    )


async def _insert(
    structure_id: int,
    family_id: int,
    *,
    from_family: bool,
    author_name: str,
    body: str,
    account_id: int | None = None,
    staff_id: int | None = None,
    broadcast_key: str = "",
    stored: tuple[str, str, str, int] | None = None,
) -> int:
    now = clock.utcnow()
    [row] = await Message.insert(
        Message(
            structure=structure_id,
            family=family_id,
            from_family=from_family,
            account=account_id,
            staff=staff_id,
            author_name=author_name[:200],
            body=body,
            broadcast_key=broadcast_key,
            created_at=now,
        )
    ).returning(Message.id)
    message_id = int(row["id"])
    if stored is not None:
        filename, content_type, key, size = stored
        await MessageAttachment.insert(
            MessageAttachment(
                message=message_id,
                filename=filename,
                content_type=content_type,
                size=size,
                storage_name=key,
            )
        )
    return message_id


def _discard(documents_dir: Path, stored: tuple[str, str, str, int] | None) -> None:
    if stored is not None:
        family_file.document_path(documents_dir, stored[2]).unlink(missing_ok=True)


async def send_from_family(
    documents_dir: Path,
    family_id: int,
    account_id: int,
    author_name: str,
    body: str,
    upload: Upload | None = None,
) -> int:
    """A parent's message to the structure (with at most one attachment)."""
    text = rules.clean_body(body)
    family = await Family.select(Family.structure).where(Family.id == family_id).first()
    if family is None:
        raise NotFound(family_id)
    sent = await Message.count().where(
        (Message.family == family_id)
        & (Message.from_family == True)  # noqa: E712
        & (Message.created_at > clock.utcnow() - timedelta(days=1))
    )
    if (refusal := rules.daily_limit_error(sent)) is not None:
        raise rules.MessageError(refusal)
    stored = await _store(documents_dir, upload)
    try:
        async with write_transaction():
            if stored is not None:
                await family_file.check_upload_quota(family_id, stored[3])
            return await _insert(
                int(family["structure"]),
                family_id,
                from_family=True,
                author_name=author_name,
                body=text,
                account_id=account_id,
                stored=stored,
            )
    except BaseException:
        _discard(documents_dir, stored)  # no orphan file when the row is not written
        raise


async def _notify_family(
    message_id: int, family_id: int, structure_name: str, text: str, base_url: str
) -> None:
    """E-mail and push the family about a staff message, as its accounts chose."""
    key = f"message:{message_id}"
    await push.queue_push(
        Kind.MESSAGE,
        family_id,
        key,
        f"Message de {structure_name}",
        rules.excerpt(text),
        "/messages",
    )
    to = (await family_addresses([family_id], Kind.MESSAGE))[family_id]
    if to:
        mail = render_email(
            "message",
            structure_name=structure_name,
            body=text,
            messages_url=portal_url(base_url) + "messages",
            portal_url=portal_url(base_url),
        )
        await queue_email(key, to, mail.subject, mail.text, mail.html)


async def _structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    if row is None:
        raise NotFound(structure_id)
    return str(row["name"])


async def send_from_staff(
    documents_dir: Path,
    structure_id: int,
    family_id: int,
    staff_id: int,
    body: str,
    upload: Upload | None = None,
    *,
    base_url: str,
) -> int:
    """A staff reply to one family; the family is notified in the same transaction."""
    text = rules.clean_body(body)
    await _family_in(structure_id, family_id)
    structure_name = await _structure_name(structure_id)
    stored = await _store(documents_dir, upload)
    try:
        async with write_transaction():
            message_id = await _insert(
                structure_id,
                family_id,
                from_family=False,
                author_name=structure_name,
                body=text,
                staff_id=staff_id,
                stored=stored,
            )
            await _notify_family(message_id, family_id, structure_name, text, base_url)
    except BaseException:
        _discard(documents_dir, stored)
        raise
    return message_id


async def audience_families(structure_id: int, audience: Audience) -> list[int]:
    """The families a broadcast reaches, in id order (only this structure's)."""
    if audience.day is None:
        rows = await Enrollment.select(Enrollment.person.family).where(
            (Enrollment.activity == audience.activity_id)
            & (Enrollment.activity.structure == structure_id)
        )
        return sorted({int(r["person.family"]) for r in rows})
    query = (Reservation.activity_day.day == audience.day) & (
        Reservation.activity_day._.activity._.structure == structure_id
    )
    if audience.activity_id is not None:
        query &= Reservation.activity_day.activity == audience.activity_id
    rows = await Reservation.select(Reservation.family).where(
        query & Reservation.status.is_in(list(LIVE_STATUSES))
    )
    return sorted({int(r["family"]) for r in rows})


@dataclass(frozen=True)
class Broadcast:
    key: str
    families: int


async def broadcast(
    structure_id: int, staff_id: int, audience: Audience, body: str, *, base_url: str
) -> Broadcast:
    """One message in the thread of every family of the audience ("sortie annulée
    demain"), each notified through its channels; all or nothing."""
    text = rules.clean_body(body)
    if audience.activity_id is not None:
        found = await Activity.exists().where(
            (Activity.id == audience.activity_id) & (Activity.structure == structure_id)
        )
        if not found:
            raise MessageError("Cette activité n'existe pas dans votre structure.")
    structure_name = await _structure_name(structure_id)
    families = await audience_families(structure_id, audience)
    if not families:
        raise MessageError("Aucune famille ne correspond à ce choix : rien n'a été envoyé.")
    key = secrets.token_hex(8)
    async with write_transaction():
        for family_id in families:
            message_id = await _insert(
                structure_id,
                family_id,
                from_family=False,
                author_name=structure_name,
                body=text,
                staff_id=staff_id,
                broadcast_key=key,
            )
            await _notify_family(message_id, family_id, structure_name, text, base_url)
    return Broadcast(key, len(families))


# --- attachments ------------------------------------------------------------------------------


async def _attachment(documents_dir: Path, where: object) -> StoredAttachment:
    row = await (
        MessageAttachment.select(
            MessageAttachment.filename,
            MessageAttachment.content_type,
            MessageAttachment.storage_name,
        )
        .where(where)  # type: ignore[arg-type]
        .first()
    )
    if row is None:
        raise NotFound("pièce jointe")
    path = family_file.document_path(documents_dir, str(row["storage_name"]))
    if not path.is_file():
        raise NotFound("pièce jointe")
    return StoredAttachment(str(row["filename"]), str(row["content_type"]), path)


async def family_attachment(
    documents_dir: Path, family_id: int, attachment_id: int
) -> StoredAttachment:
    """An attachment of this family's thread; NotFound for anybody else's."""
    return await _attachment(
        documents_dir,
        (MessageAttachment.id == attachment_id) & (MessageAttachment.message._.family == family_id),
    )


async def structure_attachment(
    documents_dir: Path, structure_id: int, attachment_id: int
) -> StoredAttachment:
    """An attachment of a thread of this structure; NotFound otherwise."""
    return await _attachment(
        documents_dir,
        (MessageAttachment.id == attachment_id)
        & (MessageAttachment.message._.structure == structure_id),
    )
