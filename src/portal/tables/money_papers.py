"""Tables of the régie's papers: what a structure prints on its documents (address, logo)
and how each activity counts on the yearly tax certificate."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Activity, Structure


class StructureProfile(Table):
    """The letterhead of a structure's documents (one row per structure, optional)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    # Postal address as printed, one line per line.
    address = Text(default="")
    # The logo as a data: URI (PNG, JPEG or SVG), small enough to embed in every PDF.
    logo_data_uri = Text(default="")
    # Who signs the certificates ("Le régisseur", "Pour le maire, ...").
    signatory = Varchar(length=200, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ActivityCategory(Table):
    """How an activity counts on the tax certificate: garde, repas or autre.

    Without a row the category follows from the activity's name (see papers.rules).
    """

    id = Serial(primary_key=True)
    activity = ForeignKey(references=Activity, unique=True)
    category = Varchar(length=10)


MONEY_PAPERS_TABLES: list[type[Table]] = [StructureProfile, ActivityCategory]

__all__ = ["MONEY_PAPERS_TABLES", "ActivityCategory", "StructureProfile"]
