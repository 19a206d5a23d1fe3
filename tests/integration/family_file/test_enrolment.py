"""Enrolment requests on both engines: offers, age range, required documents, decisions."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.booking.scope import load_scope
from portal.domain.family_file.rules import FileError
from portal.domain.file_review import enrolment
from portal.domain.staff.service import Actor
from portal.tables import Enrollment, EnrolmentOffer, FamilyDocument, OutboxEmail
from tests.conftest import Database
from tests.factories import add_file_rules, make_activity, make_family, make_staff, make_structure


async def test_request_then_accept_lets_the_child_book(db: Database) -> None:
    setup = await make_family()
    activity = await make_activity(setup.structure, "Ecole de danse")
    ids = await add_file_rules(setup.structure, fields=())
    paolo = setup.people[0]
    with pytest.raises(FileError, match="pas ouvertes"):
        await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)
    await EnrolmentOffer(
        activity=activity.id, is_open=True, period_start=date(2027, 1, 4),
        period_end=date(2027, 6, 30), age_min=8, age_max=12, required_documents=["caf"],
    ).save()  # fmt: skip
    with pytest.raises(FileError, match="ouverte aux enfants de 8 à 12 ans : Paolo aura 7 ans"):
        await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)
    await EnrolmentOffer.update({EnrolmentOffer.age_min: 5}).where(
        EnrolmentOffer.activity == activity.id
    )
    with pytest.raises(FileError, match="Attestation CAF/quotient familial"):
        await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)
    await FamilyDocument(
        family=setup.family.id, document_type=ids["caf"], filename="a.pdf",
        content_type="application/pdf", size_bytes=1, sha256="0", storage_key="k",
        status="valid", valid_until=date(2099, 1, 1),
    ).save()  # fmt: skip
    line = await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)
    assert line.status == "pending" and line.period_start == date(2027, 1, 4)
    with pytest.raises(FileError, match="déjà en attente"):
        await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)

    agent = await make_staff("agent", setup.structure)
    actor = Actor.of(agent)
    with pytest.raises(FileError, match="motif"):
        await enrolment.decide_request(
            actor, setup.structure.id, line.id, accept=False, reason=" ", base_url="http://x"
        )
    elsewhere = await make_structure("Mairie de Loinville")
    other = await make_family(login="autre", structure=elsewhere, children=("Zoé",))
    with pytest.raises(enrolment.NotFound):
        await enrolment.decide_request(
            actor, other.structure.id, line.id, accept=True, reason="", base_url="http://x"
        )
    await enrolment.decide_request(
        actor, setup.structure.id, line.id, accept=True, reason="", base_url="http://x"
    )
    assert await Enrollment.exists().where(
        (Enrollment.person == paolo.id) & (Enrollment.activity == activity.id)
    )
    scope = await load_scope(setup.family.id)
    assert activity.id in [a.id for a in scope.activities_of(paolo.id)]
    [mail] = await OutboxEmail.objects()
    assert mail.subject == "Inscription de Paolo : acceptée (Ecole de danse)"
    with pytest.raises(enrolment.NotFound):  # decided once
        await enrolment.decide_request(
            actor, setup.structure.id, line.id, accept=True, reason="", base_url="http://x"
        )
    with pytest.raises(FileError, match="déjà inscrit"):
        await enrolment.request_enrolment(setup.family.id, None, paolo.id, activity.id)


async def test_cancel_only_own_pending_requests(db: Database) -> None:
    setup = await make_family()
    activity = await make_activity(setup.structure, "Judo")
    await EnrolmentOffer(activity=activity.id, is_open=True).save()
    line = await enrolment.request_enrolment(setup.family.id, None, setup.people[1].id, activity.id)
    other = await make_family(login="autre", structure=setup.structure, name="AUTRE")
    with pytest.raises(enrolment.NotFound):
        await enrolment.cancel_request(other.family.id, line.id)
    await enrolment.cancel_request(setup.family.id, line.id)
    [again] = await enrolment.family_requests(setup.family.id)
    assert again.status == "cancelled"
