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
