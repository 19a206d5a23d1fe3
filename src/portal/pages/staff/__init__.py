"""The back office (/gestion): staff login, then every page under /gestion/s/{structure}."""

from __future__ import annotations

from portal.pages.staff import (
    account,
    activities,
    daily,
    exports,
    families,
    home,
    journal,
    mfa,
    office,
    staff_accounts,
)
from portal.pages.staff import attendance_speed as attendance_tools
from portal.pages.staff import booking as family_booking
from portal.pages.staff import kitchen as kitchen_sheet
from portal.pages.staff import quotient as quotient_bands
from portal.pages.staff import rollover as year_rollover
from portal.pages.staff import statistics as structure_statistics
from portal.pages.staff.common import load_staff

ROUTES = [
    *home.ROUTES,
    *activities.ROUTES,
    *daily.ROUTES,
    *office.ROUTES,
    *families.ROUTES,
    *family_booking.ROUTES,  # booking on a family's behalf (issue 17)
    *kitchen_sheet.ROUTES,  # the kitchen sheet (issue 17)
    *year_rollover.ROUTES,  # the school year rollover (issue 17)
    *quotient_bands.ROUTES,  # tariff bands from the quotient familial (issue 17)
    *structure_statistics.ROUTES,  # CAF and council figures (issue 17)
    *attendance_tools.ROUTES,  # « Tous présents », times, unexpected presences (issue 17)
    *account.ROUTES,  # own account: password, sessions, second factor (secacct)
    *mfa.ROUTES,
    *staff_accounts.ROUTES,  # administrators: staff accounts and roles (issue 17)
    *journal.ROUTES,  # the audit journal, per structure and global (issue 17)
    *exports.ROUTES,  # the nights' exports and list exports in the browser (issue 17)
]

__all__ = ["ROUTES", "load_staff"]
