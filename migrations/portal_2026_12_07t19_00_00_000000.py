"""A document type's condition (`required_when`) is one of the conditions the family file
knows: a typo typed in the raw tables used to make the document asked of every child.

The admin shows the column as a choice list; the database refuses any other value (a CHECK
on PostgreSQL, triggers on SQLite, which cannot add a CHECK to an existing table).
"""

from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.choices import Choice
from piccolo.columns.column_types import Varchar
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-07T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document types: required_when is a known condition"

NAME = "document_type_required_when_known"
RULE = "{p}required_when IN ('', 'pai', 'disability')"


class RequiredWhen(Enum):
    """The choices as they stood when this migration was written (frozen here: a later
    condition comes with its own migration)."""

    always = Choice(value="", display_name="Toujours (selon « requis »)")
    pai = Choice(value="pai", display_name="Enfant avec un PAI")
    disability = Choice(value="disability", display_name="Enfant en situation de handicap")


# A value no condition knows was read as « always » (the document asked of every child):
# it becomes the empty value, which says so, before the rule is added; nothing changes for
# the families.
NORMALISE = (
    "UPDATE document_type SET required_when = '' "
    "WHERE required_when NOT IN ('', 'pai', 'disability')"
)


def _statements(sqlite: bool) -> list[str]:
    if sqlite:
        return [NORMALISE] + [
            f"CREATE TRIGGER {NAME}_{event.lower()} BEFORE {event} ON document_type "
            f"FOR EACH ROW WHEN NOT ({RULE.format(p='NEW.')}) "
            f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {NAME}'); END"
            for event in ("INSERT", "UPDATE")
        ]
    return [
        NORMALISE,
        f"ALTER TABLE document_type ADD CONSTRAINT {NAME} CHECK ({RULE.format(p='')})",
    ]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.alter_column(
        table_class_name="DocumentType",
        tablename="document_type",
        column_name="required_when",
        db_column_name="required_when",
        params={"choices": RequiredWhen},
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        for statement in _statements(isinstance(engine, SQLiteEngine)):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
