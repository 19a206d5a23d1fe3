"""Booking periods: scheduled openings, their allocation by draw or priorities."""
