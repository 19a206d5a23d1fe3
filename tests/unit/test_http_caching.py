"""The pure parts of portal.web.caching."""

from __future__ import annotations

from portal.web.caching import etag_matches, is_versioned_static


def test_etag_comparison_and_versioned_names() -> None:
    assert etag_matches('W/"abc"', '"abc"') and etag_matches('"x", "abc"', 'W/"abc"')
    assert etag_matches("*", '"abc"') and not etag_matches("", '"abc"')
    assert not etag_matches('"abd"', '"abc"')
    assert is_versioned_static("/static/app.css", b"v=1a2b3c")
    assert is_versioned_static("/static/htmx-2.0.11.min.js", b"")
    assert not is_versioned_static("/static/icons/icon-192.png", b"")
    assert not is_versioned_static("/connexion", b"v=1")
