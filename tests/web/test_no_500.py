"""Inputs that used to end in a 500: each is a French 4xx (or the 503 page), never a 500."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from portal.domain.accounts import service as accounts
from tests.conftest import Database
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser, text

HUGE = ("2147483648", "9223372036854775808", "18446744073709551616", "9" * 40)


async def test_signing_rules_when_nothing_is_left_to_sign(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")  # onboarded, no rules document to sign
    await browser.login("dupont", PASSWORD)
    for value in ("999", *HUGE, "²", ""):
        response = await browser.submit(
            "/premiere-connexion/reglement",
            {"person_id": value, "document_id": value, "signer_name": "X", "place": "Y"},
            page="/",
        )
        # Nothing to sign: back to the home page, never the template over an empty list.
        assert response.status_code == 303, value
        assert response.headers["location"] == "/"


async def test_a_parent_form_with_a_huge_id(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    for value in (*HUGE, "²", "١٢", "-1"):
        response = await browser.submit("/structure", {"family_id": value}, page="/")
        assert response.status_code == 404, value
        assert "Page introuvable" in text(response)
    for value in HUGE:
        response = await browser.get(f"/historiques?prenom={value}")
        assert response.status_code == 400
        assert (await browser.get(f"/dossier/enfants/{value}")).status_code == 404


DRIVER_ERRORS = [
    asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InterfaceError("connection is closed"),
    OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    TimeoutError(),
    sqlite3.OperationalError("unable to open database file"),
    sqlite3.OperationalError("disk I/O error"),
]


@pytest.mark.parametrize("error", DRIVER_ERRORS, ids=lambda e: type(e).__name__)
async def test_driver_errors_while_the_database_goes_away_are_the_503_page(
    db: Database, browser: Browser, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    if db.kind == "postgresql" and isinstance(error, sqlite3.Error):
        pytest.skip("erreur propre à SQLite")
    await make_family(login="dupont")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("la requête a échoué") from error

    monkeypatch.setattr(accounts, "authenticate", broken)
    response = await browser.submit("/connexion", {"identifier": "dupont", "password": PASSWORD})
    assert response.status_code == 503
    assert "momentanément indisponible" in text(response)
    assert response.headers["retry-after"] == "30"


async def test_a_query_error_is_still_a_500_not_hidden_as_an_outage(
    db: Database, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_family(login="dupont")

    async def wrong(*args: object, **kwargs: object) -> None:
        raise asyncpg.exceptions.UndefinedColumnError("column x does not exist")

    monkeypatch.setattr(accounts, "authenticate", wrong)
    response = await browser.submit("/connexion", {"identifier": "dupont", "password": PASSWORD})
    assert response.status_code == 500
    assert "Erreur interne" in text(response)


async def test_the_database_really_going_away_on_postgresql(db: Database, browser: Browser) -> None:
    if db.kind != "postgresql":
        pytest.skip("PostgreSQL : coupure des connexions du pool")
    from tests.conftest import _admin_execute

    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    name = db.url.rsplit("/", 1)[1]
    await _admin_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    statuses = [
        (await browser.get("/", headers={"accept": "text/html"})).status_code for _ in range(3)
    ]
    assert 500 not in statuses and set(statuses) <= {200, 503}, statuses
    assert statuses[-1] == 200  # the pool reconnects by itself
