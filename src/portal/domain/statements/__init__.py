"""Monthly statements ("relevés de compte") e-mailed on the 1st, when the structure chooses."""
