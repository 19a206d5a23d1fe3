"""Roles: stored form, and who passes which route."""

from __future__ import annotations

from portal.domain.staff.accounts import grants_from_form
from portal.domain.staff.roles import (
    ADMINISTRATION,
    LEGACY_ROLES,
    MONEY,
    MONEY_READ,
    OPERATIONS,
    Role,
    allowed,
    describe,
    effective_roles,
    format_roles,
    parse_roles,
)


def test_stored_form_round_trips_in_a_fixed_order() -> None:
    assert format_roles({Role.DIRECTION, Role.AGENT}) == "agent,direction"
    assert parse_roles("direction,agent") == {Role.AGENT, Role.DIRECTION}
    assert parse_roles(LEGACY_ROLES) == {Role.AGENT, Role.REGISSEUR, Role.DIRECTION}


def test_unknown_words_and_the_administrator_are_not_attachment_roles() -> None:
    assert parse_roles("agent,pirate,administrateur,") == {Role.AGENT}
    assert parse_roles(None) == frozenset()
    assert format_roles({Role.ADMINISTRATOR}) == ""


def test_one_of_the_needed_roles_is_enough() -> None:
    regisseur = frozenset({Role.REGISSEUR})
    assert allowed(regisseur, MONEY)
    assert allowed(regisseur, MONEY_READ)
    assert not allowed(regisseur, OPERATIONS)
    assert not allowed(frozenset({Role.AGENT}), MONEY_READ)
    assert allowed(frozenset({Role.DIRECTION}), MONEY_READ)
    assert not allowed(frozenset({Role.DIRECTION}), MONEY)
    assert not allowed(frozenset(), frozenset(Role))


def test_administrators_pass_everywhere_and_alone_pass_administration() -> None:
    admin = effective_roles(True, frozenset())
    assert all(allowed(admin, needed) for needed in (MONEY, OPERATIONS, ADMINISTRATION))
    assert not allowed(
        effective_roles(False, frozenset(Role) - {Role.ADMINISTRATOR}), ADMINISTRATION
    )


def test_checkbox_values_become_roles_per_known_structure() -> None:
    grants = grants_from_form(["1:agent", "1:regisseur", "2:direction", "3:agent", "x:agent",
                               "2:administrateur", "2:"], [1, 2])  # fmt: skip
    assert grants == {1: {Role.AGENT, Role.REGISSEUR}, 2: {Role.DIRECTION}}


def test_roles_read_in_french() -> None:
    assert describe({Role.DIRECTION, Role.AGENT}) == "Agent, Direction"
    assert describe(set()) == "aucun rôle"
