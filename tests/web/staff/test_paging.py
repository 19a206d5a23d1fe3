"""Long staff lists stay flat with size: the total is shown, a page holds a bounded number
of rows, and the page costs the same number of queries with 100 rows or thousands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from portal import clock
from portal.tables import Family, OutboxEmail
from tests.conftest import Database
from tests.factories import PER_DAY, add_pending, bulk_insert
from tests.web.conftest import Browser, text
from tests.web.staff.conftest import Office

NNBSP = "\u202f"


@pytest.fixture
def query_count(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Statements sent to the database (by the live server in this process too)."""
    calls = [0]
    engine_class = type(db.engine)  # its instances have slots: patch the class
    real = engine_class.run_querystring

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    yield calls


async def _get(agent: Browser, url: str, calls: list[int]) -> tuple[str, int]:
    before = calls[0]
    response = await agent.get(url)
    assert response.status_code == 200, response.text
    return text(response), calls[0] - before


def _rows(page: str) -> int:
    return len(re.findall(r'<li id="demande-\d+"', page))


async def test_decisions_are_paginated_with_their_total(
    agent: Browser, office: Office, query_count: list[int]
) -> None:
    url = f"/gestion/s/{office.mine.sid}/decisions"
    await add_pending(office.mine, 96)  # 100 with the world's two pending and two waitlisted
    small, small_queries = await _get(agent, url, query_count)
    assert "100 demandes" in small and "Page 1 sur 2" in small
    assert _rows(small) == PER_DAY

    await add_pending(office.mine, 2_900)  # 3,000
    page, queries = await _get(agent, url, query_count)
    assert f"3{NNBSP}000 demandes" in page
    assert "Page 1 sur 60" in page
    assert _rows(page) == PER_DAY
    assert queries == small_queries  # the same statements, whatever the total
    assert "Page précédente" not in page
    assert f'href="{url}?page=2"' in page

    second, second_queries = await _get(agent, f"{url}?page=2", query_count)
    assert "Page 2 sur 60" in second and _rows(second) == PER_DAY
    assert f'href="{url}"' in second and "Page précédente" in second
    assert second_queries == small_queries
    # No request on two pages.
    first_ids = set(re.findall(r'id="demande-(\d+)"', page))
    assert not first_ids & set(re.findall(r'id="demande-(\d+)"', second))
    # A decision sends the agent back to the page it was made on.
    assert f'name="retour" value="{url}?page=2"' in second

    beyond, _ = await _get(agent, f"{url}?page=100000000000000000000", query_count)
    assert "Page 60 sur 60" in beyond and _rows(beyond) == PER_DAY
    assert "Page suivante" not in beyond


async def test_dashboard_counts_thousands_with_the_same_queries(
    agent: Browser, office: Office, query_count: list[int]
) -> None:
    url = f"/gestion/s/{office.mine.sid}"
    _, small_queries = await _get(agent, url, query_count)
    await add_pending(office.mine, 3_000)
    page, queries = await _get(agent, url, query_count)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "3002 demandes en attente de décision, 2 en liste d'attente" in words
    assert queries == small_queries


async def test_families_and_emails_are_paginated(
    agent: Browser, office: Office, query_count: list[int]
) -> None:
    sid = office.mine.sid
    await bulk_insert(
        "family",
        ("structure", "name"),
        [(sid, f"FAMILLE{n:04d} Test") for n in range(2_400)],
    )
    _, small_queries = await _get(agent, f"/gestion/s/{sid}/familles?q=FAMILLE", query_count)
    page, queries = await _get(agent, f"/gestion/s/{sid}/familles", query_count)
    assert queries == small_queries
    assert f"2{NNBSP}402 familles" in page and "Page 1 sur 49" in page
    listed = re.findall(rf'href="/gestion/s/{sid}/familles/(\d+)"', page)
    assert len(listed) == 50
    search, _ = await _get(agent, f"/gestion/s/{sid}/familles?q=FAMILLE00&page=2", query_count)
    assert "100 familles" in search and "Page 2 sur 2" in search
    assert f'href="/gestion/s/{sid}/familles?q=FAMILLE00"' in search  # previous keeps q

    families = [
        int(r["id"])
        for r in await Family.select(Family.id).where(Family.structure == sid).limit(1_200)
    ]
    now = clock.utcnow()
    await bulk_insert(
        "outbox_email",
        ("dedupe_key", "to_addresses", "subject", "body_text", "status", "next_attempt_at",
         "created_at"),
        [(f"report:{f}:{f}", "x@example.fr", f"CR {f}", "…", "sent", now, now) for f in families]
        + [(f"report:{f}:0", "x@example.fr", "Autre", "…", "sent", now, now) for f in (10**6,)],
    )  # fmt: skip
    emails, email_queries = await _get(agent, f"/gestion/s/{sid}/transmission", query_count)
    assert f"1{NNBSP}200 e-mails" in emails and "Page 1 sur 24" in emails
    table = emails.split('id="outbox-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 50  # the header row and one page
    assert await OutboxEmail.count() == 1_201  # the other structure's e-mail is not listed
    last, last_queries = await _get(agent, f"/gestion/s/{sid}/transmission?page=24", query_count)
    assert "Page 24 sur 24" in last and last_queries == email_queries
