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
from portal.pages.staff.common import load_staff

ROUTES = [
    *home.ROUTES,
    *activities.ROUTES,
    *daily.ROUTES,
    *office.ROUTES,
    *families.ROUTES,
    *account.ROUTES,  # own account: password, sessions, second factor (secacct)
    *mfa.ROUTES,
    *staff_accounts.ROUTES,  # administrators: staff accounts and roles (issue 17)
    *journal.ROUTES,  # the audit journal, per structure and global (issue 17)
    *exports.ROUTES,  # the nights' exports and list exports in the browser (issue 17)
]

__all__ = ["ROUTES", "load_staff"]
