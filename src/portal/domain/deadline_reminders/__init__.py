"""Reminders before a booking deadline, for a week a child has nothing booked."""
