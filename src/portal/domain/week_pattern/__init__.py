"""Semaine type: a child's usual week, saved and applied over a period through the basket."""
