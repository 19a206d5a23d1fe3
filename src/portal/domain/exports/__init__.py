"""Tables the portal hands out as files (CSV; other formats build on the same ``Table``)."""
