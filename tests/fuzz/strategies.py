"""Bounded strategies of malformed input: what a form, a query or a URL could carry."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from tests.fuzz.harness import Target

# Drawn as a short marker (readable reports), made 1 MB when the request is sent.
MEGABYTE = "MEGAOCTET"
SPECIALS = [
    "",
    " ",
    "' OR '1'='1' --",
    '"; DROP TABLE account; --',
    "1; SELECT pg_sleep(5)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "${7*7}",
    "%00",
    "\x00",
    "\r\nSet-Cookie: x=y",
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "=1+2",
    "@SUM(A1)",
    "☃",
    "𝕏",
    "é" * 300,
    "\u202e\u200b",
    "true",
    "null",
    "[]",
    "{}",
    "on",
]
NUMBERS = [
    "0",
    "1",
    "-1",
    "2",
    "7",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "1e400",
    "1.5",
    "1,5",
    "12,50",
    "-0,01",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "١٢",
    "²",
    "9" * 5000,
]
DATES = [
    "2026-12-09",
    "2026-12",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-01-01",
    "9999-12-31",
    "10000-01-01",
    "31/02/2026",
    "09/12/2026",
    "2026-W50",
    "24:61",
    "08:30",
    "25:00",
    "-1-01-01",
]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
values = st.one_of(
    text,
    st.sampled_from(SPECIALS),
    st.sampled_from(NUMBERS),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(DATES),
    st.just(MEGABYTE),
)
path_ints = st.one_of(
    st.integers(1, 40),
    st.sampled_from([0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
)
path_texts = st.one_of(
    st.sampled_from(DATES),
    st.sampled_from(["app.css", "app.js", "sw.js", "icons/icon-192.png", "x", "../pyproject.toml"]),
    text.filter(bool),
    st.sampled_from(SPECIALS[2:]),
)


def path_value(kind: str) -> st.SearchStrategy[str]:
    if kind == "int":
        return path_ints.map(str)
    if kind == "Path":  # static files: keep "/" between parts, like a browser
        return path_texts.map(lambda v: "/".join(quote(p, safe="") for p in v.split("/")))
    return path_texts.map(lambda v: quote(v, safe=""))


@st.composite
def requests(draw: st.DrawFn, target: Target, field_names: list[str]) -> dict[str, Any]:
    """One request to ``target``: URL, query and, for unsafe methods, a malformed body."""
    path = target.path
    for _name, kind, full in target.path_params:
        path = path.replace("{" + full + "}", draw(path_value(kind)))
    names = st.sampled_from(list(target.query_names) or field_names)
    any_name = st.one_of(names, st.sampled_from(field_names), text)
    pairs = draw(st.lists(st.tuples(any_name, values), max_size=6))
    query = urlencode(pairs) if target.method == "GET" or draw(st.booleans()) else ""
    url = path + (f"?{query}" if query else "")
    request: dict[str, Any] = {"method": target.method, "url": url}
    if target.method == "GET":
        return request
    body = draw(st.sampled_from(["form", "form", "form", "multipart", "json", "raw", "empty"]))
    fields = draw(st.lists(st.tuples(st.sampled_from(field_names), values), max_size=10))
    # Repeated fields: the same name twice with different values.
    if fields and draw(st.booleans()):
        fields.append((fields[0][0], draw(values)))
    if body == "form":
        request["content"] = urlencode(fields).encode()
        request["headers"] = {"content-type": "application/x-www-form-urlencoded"}
    elif body == "multipart":
        request["data"] = dict(fields)
        request["files"] = {
            draw(st.sampled_from(field_names)): (
                draw(st.sampled_from(["a.csv", "a.pdf", "../../x.png", "é.txt", ""])),
                draw(st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n", b"\xff" * 1000])),
                draw(st.sampled_from(["text/csv", "application/pdf", "image/png", "x/y"])),
            )
        }
    elif body == "json":
        request["content"] = json.dumps(dict(fields)).encode()
        request["headers"] = {"content-type": "application/json"}
    elif body == "raw":
        request["content"] = draw(st.sampled_from([b"%zz=%%", b"\xff\xfe=\x00", b"a=1&&&=&b"]))
        request["headers"] = {"content-type": "application/x-www-form-urlencoded"}
    return request


def materialize(request: dict[str, Any]) -> dict[str, Any]:
    """The request as sent: markers replaced by their megabyte (8 KB in URLs, the most that
    servers and proxies let through)."""
    url = str(request["url"]).replace(MEGABYTE, "A" * 8000)

    def big(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(MEGABYTE, "A" * 1_000_000)
        if isinstance(value, bytes):
            return value.replace(MEGABYTE.encode(), b"A" * 1_000_000)
        if isinstance(value, dict):
            return {k: big(v) for k, v in value.items()}
        return value

    return {**{k: big(v) for k, v in request.items()}, "url": url}
