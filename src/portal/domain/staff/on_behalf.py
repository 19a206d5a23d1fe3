"""Booking on a family's behalf: a clerk takes a phone request with the parent's calendar.

The clerk's basket goes through the same apply_basket as a parent's, with every rule, as
the structure (``Booker.STAFF``: the reservation, the movement, the family's report and its
Suivi say "par la structure"). Deadlines and capacity are overridden only when the clerk
chose to, with a reason; every basket is written to the audit log in its own transaction,
and every item that needed the override gets an entry of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.domain.booking import apply
from portal.domain.booking.basket import Basket
from portal.domain.booking.on_behalf import Booker, Override
from portal.domain.booking.scope import BookingError
from portal.domain.booking.states import DraftAction
from portal.domain.staff import audit
from portal.domain.staff.families import family_in
from portal.domain.staff.service import Actor

REASON_MAX = 200


@dataclass(frozen=True)
class OverrideChoice:
    """The override a clerk chose for a family's basket, and why (shown on every page)."""

    override: Override
    reason: str

    @classmethod
    def parse(cls, deadlines: bool, capacity: bool, reason: str) -> OverrideChoice:
        """Check the choice: an override needs a reason, and a reason needs an override."""
        text = " ".join(reason.split())[:REASON_MAX]
        override = Override(deadlines=deadlines, capacity=capacity)
        if override.active and not text:
            raise BookingError(
                "Indiquez le motif de la dérogation (par exemple : appel du parent, "
                "accord de la direction)."
            )
        return cls(override, text if override.active else "")


NO_CHOICE = OverrideChoice(Override(), "")


async def apply_for_family(
    actor: Actor,
    structure_id: int,
    family_id: int,
    basket: Basket,
    choice: OverrideChoice = NO_CHOICE,
    *,
    health_sealed: bool = False,
) -> list[apply.ItemResult]:
    """Apply a clerk's basket for a family of their structure; audited in its transaction.
    `health_sealed`: the clerk has no health access (apply.apply_basket)."""
    family = await family_in(structure_id, family_id)  # NotFound: not this structure's

    async def record(results: Sequence[apply.ItemResult]) -> None:
        done = [r for r in results if r.reservation_id is not None]
        if not done:
            return
        await audit.record(
            actor,
            "booking.on_behalf",
            structure_id=structure_id,
            table="family",
            target_id=family_id,
            after={
                "famille": family.name,
                "réservations": sum(1 for r in done if r.item.action is DraftAction.BOOK),
                "annulations": sum(1 for r in done if r.item.action is DraftAction.CANCEL),
                "dérogation": ", ".join(choice.override.labels) or "aucune",
                "motif": choice.reason,
            },
        )
        for r in done:
            if not r.overridden:
                continue
            await audit.record(
                actor,
                "booking.override",
                structure_id=structure_id,
                table="reservation",
                target_id=r.reservation_id,
                after={
                    "famille": family.name,
                    "jour": r.item.day.isoformat(),
                    "demande": "réservation" if r.item.action is DraftAction.BOOK else "annulation",
                    "dérogation": ", ".join(o.label for o in r.overridden),
                    "motif": choice.reason,
                },
            )

    return await apply.apply_basket(
        0,  # apply_basket does not use the account: the clerk is in the audit entry
        family_id,
        basket,
        booker=Booker.STAFF,
        override=choice.override,
        in_transaction=record,
        health_sealed=health_sealed,
    )
