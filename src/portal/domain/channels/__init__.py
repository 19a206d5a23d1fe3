"""What reaches a parent outside the portal, and by which channel (e-mail, web push)."""
