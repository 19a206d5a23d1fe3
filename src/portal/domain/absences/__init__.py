"""Enfant malade: absences declared by parents on booked days, decided by staff."""
