"""htmx fragment handlers, one module per area."""
