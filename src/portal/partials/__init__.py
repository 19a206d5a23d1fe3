"""htmx fragment handlers (none left: a page handler renders its fragment for htmx)."""
