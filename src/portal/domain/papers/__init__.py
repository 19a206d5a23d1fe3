"""The régie's papers: statements, receipts and certificates, rendered as PDF."""
