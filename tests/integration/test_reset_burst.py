"""« Mot de passe oublié » asked many times at once for one account: the spacing holds
(the account's row is locked before its recent tokens are read), on both engines."""

from __future__ import annotations

import asyncio

from portal.db import collect_after_commit
from portal.domain.accounts import service as accounts
from portal.tables import OutboxEmail, PasswordResetToken
from tests.conftest import Database
from tests.factories import make_family


async def test_a_burst_of_reset_requests_sends_one_mail(db: Database) -> None:
    await make_family(login="dupont", emails="jp@example.fr")

    async def ask() -> bool:
        async with collect_after_commit(run_at_exit=False):
            return await accounts.request_password_reset(
                "dupont", "jp@example.fr", "http://portail.test", 30
            )

    outcomes = await asyncio.gather(*(ask() for _ in range(10)))
    assert outcomes.count(True) == 1
    assert await PasswordResetToken.count() == 1
    assert await OutboxEmail.count() == 1
