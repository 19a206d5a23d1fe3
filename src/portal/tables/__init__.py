"""Piccolo tables, one module per area. Money in integer cents, instants in UTC
(Timestamptz), days as local dates.

Each area module declares its tables; this package re-exports them so that
``from portal.tables import X`` works for every table, and ALL_TABLES lists them in an
order where every table comes after the tables it references.
"""

from __future__ import annotations

from piccolo.table import Table

from portal.tables.back_office import *  # noqa: F403
from portal.tables.back_office import BACK_OFFICE_TABLES
from portal.tables.core import *  # noqa: F403
from portal.tables.core import CORE_TABLES
from portal.tables.family_file import *  # noqa: F403
from portal.tables.family_file import FAMILY_FILE_TABLES
from portal.tables.mfa import *  # noqa: F403
from portal.tables.mfa import MFA_TABLES
from portal.tables.money_papers import *  # noqa: F403
from portal.tables.money_papers import MONEY_PAPERS_TABLES
from portal.tables.money_reminders import *  # noqa: F403
from portal.tables.money_reminders import MONEY_REMINDER_TABLES
from portal.tables.money_sepa import *  # noqa: F403
from portal.tables.money_sepa import MONEY_SEPA_TABLES
from portal.tables.money_statements import *  # noqa: F403
from portal.tables.money_statements import MONEY_STATEMENT_TABLES
from portal.tables.notifications import *  # noqa: F403
from portal.tables.notifications import NOTIFICATION_TABLES
from portal.tables.parent_tools import *  # noqa: F403
from portal.tables.parent_tools import PARENT_TOOLS_TABLES
from portal.tables.periods import *  # noqa: F403
from portal.tables.periods import PERIOD_TABLES
from portal.tables.tasks import *  # noqa: F403
from portal.tables.tasks import TASKS_TABLES
from portal.tables.versions import *  # noqa: F403
from portal.tables.versions import VERSIONS_TABLES

ALL_TABLES: list[type[Table]] = [
    *CORE_TABLES,
    *FAMILY_FILE_TABLES,
    *MONEY_PAPERS_TABLES,
    *MONEY_SEPA_TABLES,
    *MONEY_REMINDER_TABLES,
    *MONEY_STATEMENT_TABLES,
    *TASKS_TABLES,
    *MFA_TABLES,
    *PARENT_TOOLS_TABLES,
    *VERSIONS_TABLES,
    *PERIOD_TABLES,
    *NOTIFICATION_TABLES,
    *BACK_OFFICE_TABLES,
]
