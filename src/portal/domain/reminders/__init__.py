"""Money reminders: low-balance alerts and debt reminders ("relances")."""
