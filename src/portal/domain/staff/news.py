"""Home-page messages of a structure: write, schedule, withdraw."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from portal import clock
from portal.db import write_transaction
from portal.domain.news.rules import NewsValues
from portal.domain.staff import audit
from portal.domain.staff.service import Actor, NotFound
from portal.tables import NewsItem


async def news_items(structure_id: int) -> list[NewsItem]:
    return await (
        NewsItem.objects()
        .where(NewsItem.structure == structure_id)
        .order_by(NewsItem.created_at, ascending=False)
        .limit(200)
    )


async def news_in(structure_id: int, news_id: int) -> NewsItem:
    row = await NewsItem.objects().get(
        (NewsItem.id == news_id) & (NewsItem.structure == structure_id)
    )
    if row is None:
        raise NotFound(f"actualité {news_id}")
    return row


async def publish(actor: Actor, structure_id: int, values: NewsValues) -> int:
    now = clock.utcnow()
    async with write_transaction():
        inserted = await NewsItem.insert(
            NewsItem(
                structure=structure_id,
                title=values.title,
                body=values.body,
                # Without a start, the message is online from now (and dated so).
                visible_from=values.visible_from or now,
                visible_to=values.visible_to,
                created_at=now,
            )
        ).returning(NewsItem.id)
        news_id = int(inserted[0]["id"])
        await audit.record(
            actor,
            "news.create",
            structure_id=structure_id,
            table="news_item",
            target_id=news_id,
            after=asdict(values),
        )
    return news_id


async def update(actor: Actor, structure_id: int, news_id: int, values: NewsValues) -> None:
    async with write_transaction():
        row = await news_in(structure_id, news_id)
        before = {
            "title": row.title,
            "body": row.body,
            "visible_from": row.visible_from,
            "visible_to": row.visible_to,
        }
        after = asdict(values)
        await NewsItem.update(
            {
                NewsItem.title: values.title,
                NewsItem.body: values.body,
                NewsItem.visible_from: values.visible_from or row.visible_from,
                NewsItem.visible_to: values.visible_to,
            }
        ).where(NewsItem.id == news_id)
        old, new = audit.changed(before, after)
        await audit.record(
            actor,
            "news.update",
            structure_id=structure_id,
            table="news_item",
            target_id=news_id,
            before=old,
            after=new,
        )


async def withdraw(
    actor: Actor, structure_id: int, news_id: int, now: datetime | None = None
) -> None:
    """Stop showing the message now (it stays in the list, marked withdrawn)."""
    now = now or clock.utcnow()
    async with write_transaction():
        row = await news_in(structure_id, news_id)
        if row.visible_to is not None and row.visible_to <= now:
            return
        await NewsItem.update({NewsItem.visible_to: now}).where(NewsItem.id == news_id)
        await audit.record(
            actor,
            "news.withdraw",
            structure_id=structure_id,
            table="news_item",
            target_id=news_id,
            before={"visible_to": row.visible_to},
            after={"visible_to": now},
        )
