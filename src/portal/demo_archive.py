"""Demo: one activity of the previous school year, archived by its rollover.

The staff see it in their list with the « Archivée » badge and open it, its days and its
tariff, read-only (portal.domain.staff.archive); families no longer see it. Its days are in
the previous July, closed and empty: no money moves for an archive.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from portal.tables import Activity, ActivityDay, Structure, Tariff, WalletType

ARCHIVED_NAME = "Centre de loisirs d'été (année précédente)"


def previous_school_year_july(today: date) -> tuple[date, date]:
    """The July that ended the previous school year (a school year starts in September)."""
    year = today.year - 1 if today.month >= 9 else today.year - 2
    return date(year, 7, 6), date(year, 7, 31)


async def load(today: date, mairie_slug: str) -> None:
    """Inside the demo's transaction."""
    structure = await Structure.objects().get(Structure.slug == mairie_slug)
    if structure is None:
        return
    wallet = await WalletType.objects().get(WalletType.structure == structure.id)
    if wallet is None:
        return
    first, last = previous_school_year_july(today)
    rows = await Activity.insert(
        Activity(
            structure=structure.id,
            wallet_type=wallet.id,
            name=ARCHIVED_NAME,
            color="#6b7280",
            start_time=time(8, 30),
            end_time=time(17, 30),
            capacity=40,
            waitlist_capacity=0,
            position=99,
            active=False,
            # Rolled over at the end of August, as a town hall does before the new year.
            archived_at=datetime(first.year, 8, 25, 8, 0, tzinfo=UTC),
        )
    ).returning(Activity.id)
    activity_id = int(rows[0]["id"])
    await Tariff.insert(
        Tariff(activity=activity_id, band="A", unit_price_cents=1250, valid_from=first)
    )
    days = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() < 5
    ]
    await ActivityDay.insert(
        *(ActivityDay(activity=activity_id, day=d, is_open=False, capacity=40) for d in days)
    )
