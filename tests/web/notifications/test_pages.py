"""Notifications and messages over HTTP: the profile card, this browser's push
subscription (JSON with the CSRF header), the parent's thread and the staff pages."""

from __future__ import annotations

import re

from portal.domain.channels import service as channels
from portal.domain.channels.rules import Kind
from portal.tables import Message, OutboxEmail, PushSubscription
from tests.conftest import Database
from tests.factories import PASSWORD, STAFF_PASSWORD, make_family, make_staff
from tests.integration.notifications.conftest import BrowserKeys
from tests.web.conftest import Browser, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_profile_notifications_and_push_subscription(db: Database, browser: Browser) -> None:
    setup = await make_family()
    await browser.login("famille", PASSWORD)
    page = await browser.get("/profil")
    body = text(page)
    assert "Notifications" in body and "Message de la structure" in body
    key = re.search(r'data-vapid-key="([^"]+)"', page.text)
    assert key and len(key.group(1)) == 87  # a P-256 point, base64url

    form = {"message__email": "1", "message__push": "1", "delai_rappel": "72"}
    assert (await browser.submit("/profil/notifications", form, page="/profil")).status_code == 303
    by_kind = {c.kind: c for c in await channels.account_choices(int(setup.account.id))}
    assert by_kind[Kind.MESSAGE].push and not by_kind[Kind.BOOKING_REPORT].email
    assert (await channels.lead_hours([int(setup.account.id)]))[int(setup.account.id)] == 72
    bad = await browser.submit("/profil/notifications", {"delai_rappel": "5"}, page="/profil")
    assert bad.status_code == 400 and "délai de rappel" in text(bad)

    await browser.get("/profil")
    headers = {"x-csrftoken": browser.last_csrf or "", "content-type": "application/json"}
    subscription = BrowserKeys.new().subscription("https://push.example/abc")
    ok = await browser.post("/notifications/abonnement", json=subscription, headers=headers)
    assert ok.status_code == 201
    assert await PushSubscription.count() == 1
    refused = await browser.post("/notifications/abonnement", content=b"{", headers=headers)
    assert refused.status_code == 400 and "illisible" in refused.json()["erreur"]
    no_csrf = await browser.post(
        "/notifications/abonnement", json=subscription, headers={"x-csrftoken": "x"}
    )
    assert no_csrf.status_code == 403
    gone = await browser.post(
        "/notifications/desabonnement",
        json={"endpoint": "https://push.example/abc"},
        headers=headers,
    )
    assert gone.status_code == 200 and await PushSubscription.count() == 0


async def test_a_family_writes_and_the_staff_answers(db: Database, browser: Browser) -> None:
    setup = await make_family()
    await make_staff("accueil", setup.structure)
    await browser.login("famille", PASSWORD)
    page = await browser.get("/messages")
    assert page.status_code == 200 and "Aucun message" in text(page)
    await browser.get("/messages")
    sent = await browser.post(
        "/messages",
        data={"texte": "Bonjour, voici le certificat.", "_csrf_token": browser.last_csrf or ""},
        files={"piece_jointe": ("certificat.png", PNG, "image/png")},
    )
    assert sent.status_code == 303
    await browser.get("/messages")
    empty = await browser.post(
        "/messages", data={"texte": " ", "_csrf_token": browser.last_csrf or ""}, files={}
    )
    assert empty.status_code == 400 and "Écrivez votre message" in text(empty)
    thread = text(await browser.get("/messages"))
    assert "voici le certificat" in thread and "certificat.png" in thread
    [message] = await Message.select()
    attachment_url = re.search(
        r'href="(/messages/pieces/\d+)"', (await browser.get("/messages")).text
    )
    assert attachment_url
    file = await browser.get(attachment_url.group(1))
    assert file.content == PNG and file.headers["content-type"] == "image/png"

    await browser.post("/deconnexion", data={"_csrf_token": browser.last_csrf or ""})
    await browser.submit(
        "/gestion/connexion", {"identifier": "accueil", "password": STAFF_PASSWORD}
    )
    base = f"/gestion/s/{setup.structure.id}/messages"
    listing = await browser.get(base)
    assert "DUPONT Jean-Paul" in text(listing) and "1 non lu" in text(listing)
    assert 'class="nav-badge">1' in listing.text
    thread_url = f"{base}/familles/{setup.family.id}"
    assert "voici le certificat" in text(await browser.get(thread_url))
    assert 'class="nav-badge"' not in (await browser.get(base)).text  # read now
    await browser.get(thread_url)
    answer = await browser.post(
        thread_url,
        data={"texte": "Merci, bien reçu.", "_csrf_token": browser.last_csrf or ""},
        files={},
    )
    assert answer.status_code == 303
    [mail] = await OutboxEmail.select()
    assert "Merci, bien reçu." in mail["body_text"]
    broadcast = await browser.submit(
        f"{base}/diffusion", {"activite": "", "jour": "", "texte": "x"}, page=base
    )
    assert broadcast.status_code == 400 and "Choisissez une activité" in text(broadcast)
    other = await browser.get(f"{base}/familles/999999")
    assert other.status_code == 404
    assert message["from_family"]
