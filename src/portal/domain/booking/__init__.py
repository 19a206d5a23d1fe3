"""Booking rules as pure functions on plain values (no web, no database, no I/O).

deadlines: délais; states: day states and labels; quicktools: week/weekday/month toggles;
hours: time ranges and time-entry billing; eligibility: who may book; decisions: outcome
of a basket item and waitlist promotion; copy_plan: "Importer".
"""
