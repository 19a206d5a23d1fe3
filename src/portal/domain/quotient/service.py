"""A structure's QF bands, each family's band (computed, overridden by staff, in force),
and writing the band in force on the family (what pricing reads: Family.tariff_band)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal import clock
from portal.db import write_transaction
from portal.domain.quotient import rules
from portal.domain.staff import audit
from portal.domain.staff.families import family_in
from portal.domain.staff.service import Actor
from portal.tables import BandOverride, Family, FamilyContact, QuotientBand


class BandError(ValueError):
    """Bands or an override that cannot be saved (the messages are French)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(" ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class FamilyBand:
    family_id: int
    name: str
    qf: int | None
    valid_until: date | None
    computed: str | None  # from the QF (None: the structure has no bands)
    override: str | None
    override_reason: str
    current: str  # Family.tariff_band, what pricing uses

    @property
    def due(self) -> str:
        """The band the family should be in."""
        return self.override or self.computed or self.current


async def bands(structure_id: int) -> list[rules.BandRule]:
    rows = await (
        QuotientBand.select(QuotientBand.band, QuotientBand.qf_max)
        .where(QuotientBand.structure == structure_id)
        .order_by(QuotientBand.id)
    )
    return [rules.BandRule(str(r["band"]), r["qf_max"]) for r in rows]


async def save_bands(actor: Actor, structure_id: int, text: str) -> list[rules.BandRule]:
    """Replace the structure's bands (an empty text removes them: bands set by hand)."""
    parsed, errors = rules.parse_bands(text[:5000])
    if errors:
        raise BandError(errors)
    async with write_transaction():
        before = await bands(structure_id)
        await QuotientBand.delete().where(QuotientBand.structure == structure_id)
        if parsed:
            await QuotientBand.insert(
                *[
                    QuotientBand(structure=structure_id, band=b.band, qf_max=b.qf_max)
                    for b in parsed
                ]
            )
        await audit.record(
            actor,
            "quotient.bands",
            structure_id=structure_id,
            table="quotient_band",
            before={"tranches": rules.format_bands(before)},
            after={"tranches": rules.format_bands(parsed)},
        )
    return parsed


async def family_bands(structure_id: int, today: date) -> list[FamilyBand]:
    defined = await bands(structure_id)
    families = await (
        Family.select(Family.id, Family.name, Family.tariff_band)
        .where(Family.structure == structure_id)
        .order_by(Family.name)
    )
    ids = [int(f["id"]) for f in families]
    contacts = {}
    overrides = {}
    if ids:
        contacts = {
            int(c["family"]): c
            for c in await FamilyContact.select(
                FamilyContact.family,
                FamilyContact.quotient_familial,
                FamilyContact.tariff_valid_until,
            ).where(FamilyContact.family.is_in(ids))
        }
        overrides = {
            int(o["family"]): o
            for o in await BandOverride.select(
                BandOverride.family, BandOverride.band, BandOverride.reason
            ).where(BandOverride.family.is_in(ids))
        }
    lines = []
    for f in families:
        fid = int(f["id"])
        contact = contacts.get(fid)
        qf = contact["quotient_familial"] if contact else None
        until = (
            clock.as_date(contact["tariff_valid_until"])
            if contact and contact["tariff_valid_until"]
            else None
        )
        override = overrides.get(fid)
        lines.append(
            FamilyBand(
                family_id=fid,
                name=str(f["name"]),
                qf=qf,
                valid_until=until,
                computed=rules.band_for(defined, qf, until, today),
                override=str(override["band"]) if override else None,
                override_reason=str(override["reason"]) if override else "",
                current=str(f["tariff_band"]),
            )
        )
    return lines


async def apply_bands(actor: Actor, structure_id: int, today: date) -> int:
    """Put every family in the band it should be in; returns how many changed (audited)."""
    changed = 0
    async with write_transaction():
        for line in await family_bands(structure_id, today):
            if line.due == line.current:
                continue
            await Family.update({Family.tariff_band: line.due}).where(
                (Family.id == line.family_id) & (Family.structure == structure_id)
            )
            await audit.record(
                actor,
                "quotient.band",
                structure_id=structure_id,
                table="family",
                target_id=line.family_id,
                before={"tranche": line.current},
                after={
                    "tranche": line.due,
                    "origine": "choix de la structure" if line.override else "quotient familial",
                },
            )
            changed += 1
    return changed


async def set_override(
    actor: Actor, structure_id: int, family_id: int, band: str, reason: str, today: date
) -> None:
    """Choose a family's band whatever its QF (empty band: back to the QF); applied now."""
    await family_in(structure_id, family_id)  # NotFound: not this structure's
    band = band.strip()
    text = " ".join(reason.split())[:200]
    defined = {b.band for b in await bands(structure_id)}
    if band and band not in defined and not rules.BAND_RE.match(band):
        raise BandError([f"« {band} » n'est pas un code de tranche."])
    if band and defined and band not in defined:
        raise BandError([f"La tranche {band} n'existe pas : {', '.join(sorted(defined))}."])
    if band and not text:
        raise BandError(["Indiquez le motif du choix de tranche (inscrit au journal)."])
    async with write_transaction():
        old = await BandOverride.objects().get(BandOverride.family == family_id)
        await BandOverride.delete().where(BandOverride.family == family_id)
        if band:
            await BandOverride.insert(
                BandOverride(family=family_id, band=band, reason=text, staff_login=actor.login)
            )
        await audit.record(
            actor,
            "quotient.override",
            structure_id=structure_id,
            table="family",
            target_id=family_id,
            before={"tranche choisie": old.band if old else None},
            after={"tranche choisie": band or None, "motif": text},
        )
        line = next(f for f in await family_bands(structure_id, today) if f.family_id == family_id)
        if line.due != line.current:
            await Family.update({Family.tariff_band: line.due}).where(Family.id == family_id)
            await audit.record(
                actor,
                "quotient.band",
                structure_id=structure_id,
                table="family",
                target_id=family_id,
                before={"tranche": line.current},
                after={"tranche": line.due},
            )
