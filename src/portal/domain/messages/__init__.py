"""The message thread between a family and its structure."""
