"""The journal service: entries of a structure in French words, filtered by person,
family, kind and period, each linked to the page of what it changed."""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.domain.journal import service
from portal.domain.journal.service import Filters
from portal.domain.staff import audit
from tests.conftest import Database
from tests.factories import TZ, actor, make_staff, make_world, today

ZONE = clock.zone(TZ)


async def test_filters_words_and_links(db: Database) -> None:
    mine = await make_world("Mairie de Testville", prefix="a")
    theirs = await make_world("Mairie de Loinville", prefix="b")
    alice = await make_staff("alice", mine.structure)
    bob = await make_staff("bob", mine.structure)
    sid = mine.sid
    reservation = mine.accepted[0]
    other_reservation = mine.pending[0]
    clock.shift(-3 * 86400)  # three days ago
    await audit.record(
        actor(alice), "attendance.mark", structure_id=sid, table="reservation",
        target_id=int(reservation.id), before={"presence": "present"},
        after={"presence": "justifie"},
    )  # fmt: skip
    clock.reset()
    await audit.record(
        actor(bob), "decision.refuse", structure_id=sid, table="reservation",
        target_id=int(other_reservation.id), before={"status": "pending"},
        after={"status": "refused"},
    )  # fmt: skip
    await audit.record(
        actor(bob), "news.update", structure_id=sid, table="news_item",
        target_id=int(mine.news.id), before={"visible_to": None},
        after={"visible_to": "2026-12-01T18:10:00+00:00"},
    )  # fmt: skip
    await audit.record(
        actor(bob), "payment.record", structure_id=sid, table="ledger_entry", target_id=None,
        after={"amount_cents": 4550, "mode": "CHEQUE"},
    )  # fmt: skip
    await audit.record(actor(bob), "news.update", structure_id=theirs.sid, table="news_item")

    everything = await service.structure_journal(sid, ZONE, Filters(), 1)
    assert everything.paging.total == 4  # the other structure's entry is not there
    assert [e.action for e in everything.entries] == [
        "Règlement enregistré",
        "Actualité modifiée",
        "Demande refusée",
        "Présence notée",
    ]  # fmt: skip newest first
    payment, news, refusal, attendance = everything.entries
    assert [(c.field, c.before, c.after) for c in payment.changes] == [
        ("montant", "", "45,50\xa0€"), ("mode", "", "chèque"),
    ]  # fmt: skip
    assert (news.changes[0].before, news.changes[0].after) == ("(vide)", "01/12/2026 à 19:10")
    assert news.link == f"/gestion/s/{sid}/actualites/{mine.news.id}"
    assert refusal.changes[0].after == "refusée"
    assert refusal.family_name == mine.other.family.name
    assert refusal.link == f"/gestion/s/{sid}/familles/{mine.other.family.id}"
    assert attendance.changes[0].after == "absence justifiée (non facturée)"
    assert attendance.who == "Agent alice (alice)"
    assert {p.label for p in everything.people} == {"Agent alice (alice)", "Agent bob (bob)"}

    by_person = await service.structure_journal(sid, ZONE, Filters(staff_id=int(alice.id)), 1)
    assert [e.action for e in by_person.entries] == ["Présence notée"]
    by_family = await service.structure_journal(
        sid, ZONE, Filters(family_id=int(mine.family.family.id)), 1
    )
    assert [e.action for e in by_family.entries] == ["Présence notée"]
    assert by_family.family_name == mine.family.family.name
    by_kind = await service.structure_journal(sid, ZONE, Filters(kind="actualites"), 1)
    assert [e.action for e in by_kind.entries] == ["Actualité modifiée"]
    by_period = await service.structure_journal(
        sid, ZONE, Filters(first=today() - timedelta(days=4), last=today() - timedelta(days=2)), 1
    )
    assert [e.action for e in by_period.entries] == ["Présence notée"]
    # A family of another structure finds nothing here.
    stranger = await service.structure_journal(
        sid, ZONE, Filters(family_id=int(theirs.family.family.id)), 1
    )
    assert stranger.paging.total == 0 and stranger.family_name is None

    everywhere = await service.global_journal(ZONE, Filters(), 1)
    assert everywhere.paging.total == 5
    assert {e.structure_name for e in everywhere.entries} == {
        "Mairie de Testville", "Mairie de Loinville",
    }  # fmt: skip
    one = await service.global_journal(ZONE, Filters(structure_id=theirs.sid), 1)
    assert one.paging.total == 1


async def test_child_file_entries_belong_to_the_childs_family_with_health_values_masked(
    db: Database,
) -> None:
    """A child file's entries name the child (its person id), whatever the file row's id;
    a reader without health access sees the fields but not their values."""
    from portal.tables import ChildFile

    mine = await make_world("Mairie de Testville", prefix="a")
    alice = await make_staff("alice", mine.structure)
    child = mine.family.people[0]
    # Files of the other family first, so that no file row's id equals this child's id.
    for person in (*mine.other.people, *mine.family.people[::-1]):
        await ChildFile(person=person.id).save()
    await audit.record(
        actor(alice), "file.child_edit", structure_id=mine.sid, table="child_file",
        target_id=int(child.id), before={"disability": False},
        after={"disability": True, "disability_end": "2029-07-01"},
    )  # fmt: skip
    family = Filters(family_id=int(mine.family.family.id))
    [entry] = (await service.structure_journal(mine.sid, ZONE, family, 1, health=True)).entries
    assert entry.family_name == mine.family.family.name
    assert [(c.field, c.after) for c in entry.changes] == [
        ("Situation de handicap reconnue (MDPH, AEEH)", "oui"),
        ("Fin de la notification MDPH / AEEH", "01/07/2029"),
    ]
    other = Filters(family_id=int(mine.other.family.id))
    assert (await service.structure_journal(mine.sid, ZONE, other, 1)).paging.total == 0
    [masked] = (await service.structure_journal(mine.sid, ZONE, family, 1)).entries
    assert {c.after for c in masked.changes} == {"(donnée de santé masquée)"}
