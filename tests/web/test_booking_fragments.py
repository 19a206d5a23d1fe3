"""One URL per resource: the booking page and its day list answer htmx with the fragment."""

from __future__ import annotations

from typing import Any

import pytest

from portal.web import booking_desk
from tests.conftest import Database
from tests.web.conftest import Browser, LiveServer, text
from tests.web.test_booking import dupont_on_one_day, month_of, tap

HTMX = {"hx-request": "true"}


async def test_the_page_url_gives_the_fragment_to_htmx_and_the_page_to_a_browser(
    db: Database, browser: Browser
) -> None:
    setup, activity, day = await dupont_on_one_day(browser)
    query = f"personne={setup.people[0].id}&activite={activity.id}&mois={month_of(day)}"

    whole = await browser.get(f"/reservations?{query}")
    board = await browser.get(f"/reservations?{query}", headers=HTMX)
    boosted = await browser.get(f"/reservations?{query}", headers=HTMX | {"hx-boosted": "true"})

    assert "<html" in text(whole) and "<html" in text(boosted)
    assert "<html" not in text(board) and 'id="booking"' in text(board)
    assert 'id="basket-bar" hx-swap-oob="true"' in text(board)
    assert board.headers["hx-push-url"] == f"/reservations?{query}"
    assert "HX-Request" in board.headers["vary"]

    day_url = f"/reservations/jour/{day.isoformat()}?personne={setup.people[0].id}"
    day_page = await browser.get(day_url)
    day_fragment = await browser.get(day_url, headers=HTMX)
    assert "<html" in text(day_page)
    assert "<html" not in text(day_fragment) and activity.name in text(day_fragment)
    assert day_fragment.headers["hx-push-url"] == day_url


async def test_only_requests_that_write_no_booking_data_reuse_the_versions_read_with_the_account(
    db: Database, live: LiveServer, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET or a tap checks its cached scope against the versions read with the account (one
    query fewer); any other post reads them again, since it may have written before it draws
    the calendar."""
    setup, activity, day = await dupont_on_one_day(browser)
    seen: list[tuple[int, int, int] | None] = []
    real_load_scope = booking_desk.load_scope

    async def recording(family_id: int, versions_read: Any = None) -> Any:
        seen.append(versions_read)
        return await real_load_scope(family_id, versions_read)

    monkeypatch.setattr(booking_desk, "load_scope", recording)
    query = f"personne={setup.people[0].id}&activite={activity.id}&mois={month_of(day)}"

    await browser.get(f"/reservations?{query}", headers=HTMX)
    assert seen and all(v is not None for v in seen)
    seen.clear()
    tapped = await tap(browser, setup, 0, activity.id, f"jour:{day.isoformat()}", day)
    assert tapped.status_code == 303
    assert seen and all(v is not None for v in seen)
    seen.clear()
    await browser.get("/reservations/importer")
    seen.clear()
    refused = await browser.post(
        "/reservations/importer",
        data={"_csrf_token": browser.last_csrf or ""},
        headers={"referer": f"{live.url}/reservations/importer"},
    )
    assert refused.status_code == 400  # nothing chosen: the form again, with its errors
    assert seen and all(v is None for v in seen)
