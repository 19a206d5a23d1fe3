"""Online card payments through eopayment and a local sandbox."""
