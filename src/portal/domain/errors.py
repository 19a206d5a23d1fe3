"""Errors every area shares, mapped once to HTTP answers in the app's exception handlers."""

from __future__ import annotations


class NotFound(LookupError):
    """Not there, or not the caller's (another family's, another structure's): a 404.

    Each area subclasses it; the app answers the French 404 page for any of them, so a
    handler only catches one to say more precisely what was not found.
    """
