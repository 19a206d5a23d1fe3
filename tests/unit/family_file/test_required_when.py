"""Document types asked only of some children: a PAI's plan, a disability's notification."""

from __future__ import annotations

from portal.domain.family_file.rules import ChildFacts, DocType, applies_to


def doc_type(required_when: str, per_child: bool = True) -> DocType:
    return DocType(1, "x", "Justificatif", per_child, True, required_when)


def test_a_conditional_document_is_asked_only_of_the_children_it_concerns() -> None:
    plain = ChildFacts(1, "Paolo")
    with_pai = ChildFacts(2, "Amalia", pai=True)
    with_disability = ChildFacts(3, "Hugo", disability=True)
    notification = doc_type("disability")
    assert [applies_to(notification, c) for c in (plain, with_pai, with_disability)] == [
        False,
        False,
        True,
    ]
    plan = doc_type("pai")
    assert [applies_to(plan, c) for c in (plain, with_pai, with_disability)] == [
        False,
        True,
        False,
    ]
    assert applies_to(doc_type(""), plain)
    # A family document is never asked per child, and a child document never of the family.
    assert applies_to(doc_type("", per_child=False), None)
    assert not applies_to(notification, None)


def test_the_conditions_the_admin_offers_are_the_ones_the_rules_know() -> None:
    """The column's choice list, the migration's CHECK and the rules' table name the same
    conditions (a condition added to one and not the others would be refused or ignored)."""
    import importlib.util
    from pathlib import Path

    from portal.domain.family_file.rules import REQUIRED_WHEN
    from portal.tables.family_file import RequiredWhen

    offered = {choice.value.value for choice in RequiredWhen}
    assert offered == {"", *REQUIRED_WHEN}
    path = Path(__file__).parents[3] / "migrations" / "portal_2026_12_07t19_00_00_000000.py"
    spec = importlib.util.spec_from_file_location("required_when_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert {choice.value.value for choice in migration.RequiredWhen} == offered
    for value in offered:
        assert f"'{value}'" in migration.RULE
