"""Demonstration data of the régie: letterheads, direct debit, reminders.

Called by portal.demo.load_demo() inside its transaction, after the families and their
ledger exist. What it shows:
- both structures print their address, logo and signatory on every PDF (DUPONT's
  statements of every month, his receipts, certificates);
- the Mairie is a SEPA creditor (ICS FR72ZZZ123456, debit on the 20th of last month's
  consumptions, 14 days' notice) and DUPONT signed a mandate online in the first month of
  the demo; staff can preview and prepare this month's debit and download its pain.008;
- low-balance alerts are on at the Mairie: the first daily check (the sweep, at start-up)
  e-mails MARTIN (82,40 € in debt) once, and DUPONT, whose bookings of the next 14 days
  exceed his credit; a later check sends nothing more until their balance recovers;
- MARTIN has a first debt reminder on record (a printed letter), so the next one offered
  is the second.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.domain.sepa import rules as sepa_rules
from portal.tables import (
    Account,
    DebtReminder,
    Family,
    ReminderSettings,
    SepaCreditor,
    SepaMandate,
    Structure,
    StructureProfile,
)

CREDITOR_IBAN = "FR7630006000011234567890189"
CREDITOR_ID = "FR72ZZZ123456"
DUPONT_IBAN = "FR1420041010050500013M02606"


def _logo(initials: str, colour: str) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
        f'<circle cx="60" cy="60" r="56" fill="{colour}"/>'
        '<text x="60" y="75" font-family="DejaVu Sans, sans-serif" font-size="42" '
        f'font-weight="bold" fill="#ffffff" text-anchor="middle">{initials}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


async def _structure_id(slug: str) -> int:
    row = await Structure.select(Structure.id).where(Structure.slug == slug).first()
    assert row is not None, slug
    return int(row["id"])


async def _family_id(structure_id: int, name: str) -> int:
    row = (
        await Family.select(Family.id)
        .where((Family.structure == structure_id) & (Family.name == name))
        .first()
    )
    assert row is not None, name
    return int(row["id"])


async def load_money_demo(
    today: date, first_day: date, tz_name: str, mairie_slug: str, musique_slug: str
) -> None:
    tz = ZoneInfo(tz_name)
    mairie, musique = await _structure_id(mairie_slug), await _structure_id(musique_slug)
    await StructureProfile.insert(
        StructureProfile(
            structure=mairie,
            address="Régie des services périscolaires\n1 place de la Mairie\n33000 CarteVille",
            logo_data_uri=_logo("CV", "#1d4ed8"),
            signatory="Le régisseur, Paul LEMAIRE",
        ),
        StructureProfile(
            structure=musique,
            address="12 rue des Arts\n33000 CarteVille",
            logo_data_uri=_logo("EM", "#7c3aed"),
            signatory="La directrice, Anne DUMAS",
        ),
    )
    await SepaCreditor.insert(
        SepaCreditor(
            structure=mairie,
            creditor_name="Régie périscolaire de CarteVille",
            creditor_id=CREDITOR_ID,
            iban=CREDITOR_IBAN,
            bic="AGRIFRPPXXX",
            debit_day=20,
            notice_days=sepa_rules.DEFAULT_NOTICE_DAYS,
            basis=sepa_rules.Basis.MONTH.value,
            active=True,
        )
    )
    dupont = await _family_id(mairie, "DUPONT Jean-Paul")
    account = await Account.select(Account.id).where(Account.login == "dupont").first()
    account_id = int(account["id"]) if account else None
    signed_on = first_day + timedelta(days=3)
    bank = sepa_rules.check_account(DUPONT_IBAN)
    await SepaMandate.insert(
        SepaMandate(
            family=dupont,
            reference=sepa_rules.mandate_reference(mairie, dupont, 1),
            holder="DUPONT Jean-Paul",
            iban=bank.iban,
            bic=bank.bic,
            signed_on=signed_on,
            signed_at=datetime.combine(signed_on, time(20, 14), tz),
            source="online",
            account=account_id,
            notice_days=sepa_rules.DEFAULT_NOTICE_DAYS,
        )
    )
    await ReminderSettings.insert(
        ReminderSettings(structure=mairie, low_balance_alerts=True, debt_days=15)
    )
    martin = await _family_id(mairie, "MARTIN Sophie")
    await DebtReminder.insert(
        DebtReminder(
            family=martin,
            level=1,
            channel="lettre",
            amount_cents=8240,
            debt_since=first_day + timedelta(days=20),
            staff_login="gestion",
            sent_at=datetime.combine(today - timedelta(days=5), time(10, 30), tz),
        )
    )
