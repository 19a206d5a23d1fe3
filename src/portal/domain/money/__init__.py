"""Money: ledger, balances, consumption posting, estimates, histories."""
