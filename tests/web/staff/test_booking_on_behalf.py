"""A clerk books for a family through HTTP: the parent's calendar under /gestion."""

from __future__ import annotations

from portal.tables import AuditLog, Movement, Reservation
from tests.factories import make_days, today
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office
from tests.web.staff.test_pages import HTMX, plain


async def test_a_clerk_books_a_late_day_for_a_family_with_an_override(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    fid = int(world.other.family.id)
    url = f"/gestion/s/{world.sid}/familles/{fid}/reservations"
    assert "Réserver pour cette famille" in plain(
        await agent.get(f"/gestion/s/{world.sid}/familles/{fid}")
    )
    [day] = await make_days(world.activity, today())  # past the family's deadline
    lea = world.other.people[0]
    month = f"{day.day.year:04d}-{day.day.month:02d}"
    form = {
        "personne": str(lea.id),
        "activite": str(world.activity.id),
        "mois": month,
        "cible": f"jour:{day.day.isoformat()}",
    }
    calendar = await agent.get(f"{url}?personne={lea.id}&activite={world.activity.id}&mois={month}")
    assert calendar.status_code == 200
    assert f"Réservation pour la famille {world.other.family.name}" in plain(calendar)

    late = await agent.submit(f"{url}/basculer", form, page=url)
    assert late.status_code == 303
    assert "Aucun jour modifiable" in plain(await agent.get(late.headers["location"]))

    no_reason = await agent.submit(f"{url}/derogation", {"delais": "1", "motif": " "}, page=url)
    assert "Indiquez le motif" in plain(await agent.get(no_reason.headers["location"]))
    await agent.submit(f"{url}/derogation", {"delais": "1", "motif": "Appel du parent"}, page=url)
    # The same tap through htmx: the parent's fragment, under the staff URL.
    await agent.get(url)
    tapped = await agent.post(
        f"{url}/basculer",
        data={**form, "_csrf_token": agent.last_csrf or ""},
        headers=HTMX,
    )
    assert tapped.status_code == 200 and "1 demande non validée" in plain(tapped)
    recap = plain(await agent.get(f"{url}/recapitulatif"))
    assert "Dérogation choisie : délais de réservation et d'annulation" in recap
    done = await agent.submit(f"{url}/valider", {}, page=f"{url}/recapitulatif")
    assert done.headers["location"] == f"{url}/resultat"
    result = plain(await agent.get(done.headers["location"]))
    assert "Les demandes ont été enregistrées" in result and "par la structure" in result

    reservation = await Reservation.objects().get(
        (Reservation.person == lea.id) & (Reservation.activity_day == day.id)
    )
    assert reservation is not None
    assert (reservation.status, reservation.created_by) == ("accepted", "staff")
    movement = await Movement.objects().get(Movement.reservation == reservation.id)
    assert movement is not None and movement.actor == "staff"
    audit = await AuditLog.objects().get(AuditLog.action == "booking.override")
    assert audit is not None and "Appel du parent" in str(audit.after)
    # The override lasted for that basket only.
    assert "Dérogation active" not in plain(await agent.get(url))


async def test_another_structure_family_is_not_found(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    theirs = int(office.theirs.other.family.id)
    mine = office.mine.sid
    assert (await agent.get(f"/gestion/s/{mine}/familles/{theirs}/reservations")).status_code == 404
    other_sid = office.theirs.sid
    assert (
        await agent.get(f"/gestion/s/{other_sid}/familles/{theirs}/reservations")
    ).status_code == 404


async def test_the_desk_urls_give_htmx_the_fragment_and_a_browser_the_page(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    fid = int(world.other.family.id)
    url = f"/gestion/s/{world.sid}/familles/{fid}/reservations"
    [day] = await make_days(world.activity, today())
    lea = world.other.people[0]
    query = f"personne={lea.id}&activite={world.activity.id}&mois={day.day:%Y-%m}"

    whole = await agent.get(f"{url}?{query}")
    board = await agent.get(f"{url}?{query}", headers=HTMX)
    assert "<html" in whole.text and "<html" not in board.text
    assert 'id="booking"' in board.text and f'hx-get="{url}?personne={lea.id}' in board.text
    assert board.headers["hx-push-url"] == f"{url}?{query}"
    assert "HX-Request" in whole.headers["vary"] and "HX-Request" in board.headers["vary"]

    day_url = f"{url}/jour/{day.day.isoformat()}?personne={lea.id}"
    day_page = await agent.get(day_url)
    day_fragment = await agent.get(day_url, headers=HTMX)
    assert "<html" in day_page.text and "<html" not in day_fragment.text
    assert day_fragment.headers["hx-push-url"] == day_url
    # The twins under /fragments are gone: one URL per resource.
    assert (await agent.get(f"{url}/fragments/tableau?{query}", headers=HTMX)).status_code == 404
