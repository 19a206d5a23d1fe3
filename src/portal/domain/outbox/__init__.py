"""The e-mail outbox: rows written with the change that causes them, relayed later."""
