"""SEPA direct debit: mandates, monthly runs (pain.008), rejects."""
