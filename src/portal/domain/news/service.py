"""The structure's news shown on the home page."""

from __future__ import annotations

from portal import clock
from portal.tables import NewsItem


async def visible_news(structure_id: int) -> list[NewsItem]:
    now = clock.utcnow()
    return await (
        NewsItem.objects()
        .where(
            (NewsItem.structure == structure_id)
            & ((NewsItem.visible_from.is_null()) | (NewsItem.visible_from <= now))
            & ((NewsItem.visible_to.is_null()) | (NewsItem.visible_to > now))
        )
        .order_by(NewsItem.visible_from, ascending=False)
        .order_by(NewsItem.created_at, ascending=False)
    )
