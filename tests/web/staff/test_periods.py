"""Booking periods in the back office through HTTP: the form, its French errors, the
published rules, the transparency page and its export, and the structure's scope."""

from __future__ import annotations

from portal.tables import BookingPeriod
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office
from tests.web.staff.test_pages import plain


async def test_create_a_lottery_period_then_see_its_allocation(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    fields = {
        "nom": "Vacances d'hiver 2027", "activites": str(office.mine.activity.id),
        "premier_jour": "2027-02-15", "dernier_jour": "2027-02-26",
        "ouverture": "2027-01-11T08:30", "mode": "lottery", "fin_fenetre": "",
        "critere_1": "", "codes_postaux": "",
    }  # fmt: skip
    bad = await agent.submit(f"{base}/periodes", fields)
    assert bad.status_code == 400
    assert "Indiquez la fin de la fenêtre de demandes." in plain(bad)
    assert 'value="Vacances d&#39;hiver 2027"' in bad.text or "Vacances d'hiver 2027" in bad.text
    good = await agent.submit(f"{base}/periodes", {**fields, "fin_fenetre": "2027-01-13T08:30"})
    assert good.status_code == 303
    period = await BookingPeriod.objects().get(BookingPeriod.structure == office.mine.sid)
    assert period is not None and len(period.seed) == 32
    page = plain(await agent.get(good.headers["location"]))
    assert "Les réservations ouvrent le lundi 11/01 à 08:30" in page
    assert "arriver le premier ne donne aucun avantage" in page
    report = await agent.get(f"{base}/periodes/{period.id}/attribution")
    assert report.status_code == 200 and period.seed in report.text
    export = await agent.get(f"{base}/periodes/{period.id}/attribution.csv")
    assert export.status_code == 200 and "Numéro de tirage" in export.text
    # Another structure's period is not found from this one.
    other = f"/gestion/s/{office.theirs.sid}/periodes/{period.id}"
    assert (await agent.get(other)).status_code == 404
    assert (await agent.get(f"{base}/periodes/{period.id + 1000}")).status_code == 404
