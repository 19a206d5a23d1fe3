"""Read-only roles read the back office without the forms they may not post.

Direction reads every page of its structure (OPERATIONS_READ, MONEY_READ) but acts on
none: those pages show it their state, never a button that would answer 403. An agent,
a régisseur each see only the forms of their own role, and the agent's still work."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from portal.domain.staff.roles import Role, format_roles
from portal.tables import (
    AbsenceDeclaration,
    BackOfficeSettings,
    BookingPeriod,
    BookingPeriodActivity,
    DocumentType,
    FamilyDocument,
    HouseholdAdult,
    Message,
    PendingChange,
    StaffStructure,
)
from tests.factories import World, make_staff
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office, staff_login
from tests.web.staff.test_pages import plain

FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
# The one form of staff_base.html on every page: the logout (the structure switcher is a
# GET, the own profile a link).
EVERY_PAGE = ["/gestion/deconnexion"]


def post_actions(page: str) -> list[str]:
    """The action of every `<form method="post">` of a page, in order."""
    actions = []
    for tag in FORM_TAG.findall(page):
        attributes = {name.lower(): value for name, value in ATTRIBUTE.findall(tag)}
        if attributes.get("method", "get").lower() == "post":
            actions.append(html.unescape(attributes.get("action", "")))
    return actions


async def _member(login: str, world: World, *roles: Role) -> None:
    member = await make_staff(login)
    await StaffStructure(
        staff=member.id, structure=world.structure.id, roles=format_roles(roles)
    ).save()


async def _something_to_act_on(world: World) -> int:
    """A declared absence, a pending document and change, an adult without login, a message,
    a period waiting for its allocation and a holiday zone (the year's rollover): every form
    these pages can show. Returns the period's id."""
    family, paolo = world.family.family, world.family.people[0]
    await AbsenceDeclaration(
        family=family.id, reservation=world.accepted[0].id, person=paolo.id, note="fièvre"
    ).save()
    # Not required: without file rules, the family's page sets « dossier complet » by hand.
    kind = DocumentType(structure=world.sid, code="assurance", name="Assurance", required=False)
    await kind.save()
    await FamilyDocument(
        family=family.id, document_type=kind.id, filename="assurance.pdf",
        content_type="application/pdf", size_bytes=12, sha256="0", storage_key="lecture-seule",
    ).save()  # fmt: skip
    await PendingChange(
        family=family.id, person=paolo.id, changes={"school": ["", "Jules Ferry"]},
        status="pending",
    ).save()  # fmt: skip
    await HouseholdAdult(family=family.id, first_name="Marie", last_name="Dupont").save()
    await Message(
        structure=world.sid, family=family.id, from_family=True,
        account=world.family.account.id, author_name="Jean", body="Bonjour",
    ).save()  # fmt: skip
    opens = datetime(2020, 1, 6, 7, 30, tzinfo=UTC)
    period = BookingPeriod(
        structure=world.sid, name="Hiver", first_day=date(2020, 2, 10),
        last_day=date(2020, 2, 21), opens_at=opens, mode="lottery",
        window_ends_at=opens.replace(day=8), seed="graine",
    )  # fmt: skip
    await period.save()
    await BookingPeriodActivity(period=period.id, activity=world.activity.id).save()
    await BackOfficeSettings(structure=world.sid, holiday_zone="A").save()
    return int(period.id)


def _pages(world: World, period_id: int) -> list[str]:
    """The structure's readable pages that carry forms (for someone allowed to act)."""
    base = f"/gestion/s/{world.sid}"
    fid = world.family.family.id
    aid, day = world.activity.id, world.full_day.day
    return [
        f"{base}/decisions",
        f"{base}/presences?activite={aid}&jour={day.isoformat()}",
        f"{base}/familles",
        f"{base}/familles/{fid}",
        f"{base}/familles/{fid}/dossier",
        f"{base}/familles/{fid}/enfants/{world.family.people[0].id}/modifier",
        f"{base}/dossiers/reglages",
        f"{base}/messages",
        f"{base}/messages/familles/{fid}",
        f"{base}/activites",
        f"{base}/activites/{aid}",
        f"{base}/activites/{aid}/journees?mois={day.strftime('%Y-%m')}",
        f"{base}/reglements?famille={fid}",
        f"{base}/periodes",
        f"{base}/periodes/{period_id}",
        f"{base}/periodes/{period_id}/attribution",
        f"{base}/actualites",
        f"{base}/actualites/{world.news.id}",
        f"{base}/cuisine",
        f"{base}/transmission",
        f"{base}/tranches",
        f"{base}/annee",
    ]


async def test_direction_reads_every_page_without_a_form_it_could_not_post(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    period_id = await _something_to_act_on(world)
    await _member("lecture", world, Role.DIRECTION)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "lecture")
        for path in _pages(world, period_id):
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert post_actions(page.text) == EVERY_PAGE, path
        # What the forms would have changed still reads on each page, as text.
        base = f"/gestion/s/{world.sid}"
        decisions = plain(await browser.get(f"{base}/decisions"))
        assert "« fièvre »" in decisions and "Justifiée" not in decisions
        assert "Absences signalées le jour même : acceptées le matin jusqu'à" in decisions
        assert "En attente de décision" in decisions and "Accepter" not in decisions
        day = world.full_day.day
        sheet = plain(
            await browser.get(f"{base}/presences?activite={world.activity.id}&jour={day}")
        )
        assert "Feuille non relevée" in sheet and "✓ Présent" in sheet
        assert "Tous présents" not in sheet and "Saisir les horaires" not in sheet
        days = f"{base}/activites/{world.activity.id}/journees?mois={day.strftime('%Y-%m')}"
        assert "2 (+2 en attente)" in plain(await browser.get(days))
        assert "Zone A." in plain(await browser.get(f"{base}/annee"))
        assert "Selon le QF" in plain(await browser.get(f"{base}/tranches"))
        file = plain(await browser.get(f"{base}/familles/{world.family.family.id}/dossier"))
        assert "Marie Dupont · sans identifiant propre" in file and "Jules Ferry" in file


async def test_the_agent_still_finds_its_forms(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    period_id = await _something_to_act_on(world)
    base = f"/gestion/s/{world.sid}"
    decisions = post_actions((await agent.get(f"{base}/decisions")).text)
    for pending in world.pending:
        assert f"{base}/decisions/{pending.id}" in decisions
    assert f"{base}/absences/reglage" in decisions
    day = world.full_day.day.isoformat()
    attendance = (await agent.get(f"{base}/presences?activite={world.activity.id}&jour={day}")).text
    marks = post_actions(attendance)
    for accepted in world.accepted:
        assert f"{base}/presences/{accepted.id}" in marks
    assert f"{base}/presences/tous-presents" in marks
    assert 'hx-post="/partials' in attendance
    # The htmx fragments, rendered without the page's context, keep their buttons.
    first, second = world.pending
    fragment = await agent.submit(
        f"/partials{base}/decisions/{first.id}",
        {"decision": "refuser", "journee": str(world.decision_day.id)},
        page=f"{base}/decisions",
    )
    assert fragment.status_code == 200
    assert post_actions(fragment.text) == [f"{base}/decisions/{second.id}"]
    row = await agent.submit(
        f"/partials{base}/presences/{world.accepted[0].id}",
        {"etat": "absent", "activite": str(world.activity.id), "jour": day},
        page=f"{base}/presences",
    )
    assert row.status_code == 200
    assert post_actions(row.text) == [f"{base}/presences/{world.accepted[0].id}"]
    for path in _pages(world, period_id):
        page = await agent.get(path)
        assert page.status_code == 200, path
        if not path.endswith("/activites"):  # the list only links to each activity
            assert len(post_actions(page.text)) > len(EVERY_PAGE), path


async def test_each_role_sees_the_forms_of_its_own_routes_only(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    base = f"/gestion/s/{world.sid}"
    await _member("guichet", world, Role.REGISSEUR)
    await _member("terrain", world, Role.AGENT)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "guichet")
        bands = post_actions((await browser.get(f"{base}/tranches")).text)
        assert f"{base}/tranches" in bands
        for path in (f"{base}/familles", f"{base}/familles/{world.family.family.id}"):
            assert post_actions((await browser.get(path)).text) == EVERY_PAGE, path
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "terrain")
        assert post_actions((await browser.get(f"{base}/tranches")).text) == EVERY_PAGE
        assert f"{base}/familles/import" in post_actions(
            (await browser.get(f"{base}/familles")).text
        )
