"""Errors every area shares, mapped once to HTTP answers in the app's exception handlers."""

from __future__ import annotations


class NotFound(LookupError):
    """Not there, or not the caller's (another family's, another structure's): a 404.

    Each area subclasses it; the app answers the French 404 page for any of them, so a
    handler only catches one to say more precisely what was not found.
    """


class ReadOnly(Exception):
    """A change refused because what it would change is kept as a record only (an archived
    school year): a 409 with the French message."""
