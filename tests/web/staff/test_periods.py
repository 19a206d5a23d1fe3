"""Booking periods in the back office through HTTP: the form, its French errors, the
published rules, the transparency page and its export, and the structure's scope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from portal.tables import (
    AuditLog,
    BookingPeriod,
    BookingPeriodActivity,
    PeriodRequest,
    StaffStructure,
)
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


async def test_health_criteria_values_are_for_members_with_health_access(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    """Which child has a PAI or a disability is health data: the allocation page and its
    export show those columns only to a member with health access, and audit that read."""
    world = office.mine
    opens = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)
    period = BookingPeriod(
        structure=world.sid, name="Printemps", first_day=date(2027, 4, 12),
        last_day=date(2027, 4, 23), opens_at=opens, mode="priority",
        window_ends_at=opens.replace(day=13), criteria="disability,resident",
        resident_postcodes="33000", seed="graine",
    )  # fmt: skip
    await period.save()
    await BookingPeriodActivity(period=period.id, activity=world.activity.id).save()
    child = world.family.people[0]
    await PeriodRequest(
        period=period.id, family=world.family.family.id, person=child.id,
        activity_day=world.full_day.id, criteria_values="disability=1;resident=0", draw="ab",
    ).save()  # fmt: skip
    url = f"/gestion/s/{world.sid}/periodes/{period.id}/attribution"
    with_access = plain(await agent.get(url))
    assert "Enfant en situation de handicap" in with_access
    assert "Famille domiciliée dans la commune" in with_access
    [audited] = await AuditLog.select(AuditLog.after).where(AuditLog.action == "period.health_view")
    after = audited["after"]
    assert (json.loads(after) if isinstance(after, str) else after) == {"criteria": ["disability"]}

    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == office.agent.id
    )
    page = await agent.get(url)
    table = page.text.split('id="allocation-table"')[1]
    assert "Enfant en situation de handicap" not in table
    assert "Famille domiciliée dans la commune" in table and child.first_name in table
    assert "ont servi au classement" in plain(page)
    export = (await agent.get(f"{url}.csv")).text
    assert "handicap" not in export and "Famille domiciliée dans la commune" in export
    # Nor the order and the draws, which would let the hidden criterion be inferred.
    assert "Numéro de tirage" not in export and "Ordre du jour" not in export
    assert "Numéro de tirage" not in table and "ab…" not in table
    assert await AuditLog.count().where(AuditLog.action == "period.health_view") == 1
