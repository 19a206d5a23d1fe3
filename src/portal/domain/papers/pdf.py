"""PDF rendering of the papers: Jinja templates (templates/papers/) laid out by WeasyPrint.

WeasyPrint turns HTML and CSS into PDF (print CSS: page size, margins, running footers),
so the documents are written like the rest of the site, in templates. Rendering is CPU
work of tens of milliseconds per page: it runs in a worker thread, at most
``MAX_CONCURRENT_RENDERS`` at a time, never on the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal.domain.french_dates import long_date
from portal.domain.money_format import format_euros

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
STYLESHEET = TEMPLATES_DIR / "papers" / "papers.css"
MAX_CONCURRENT_RENDERS = 2

_limiter: anyio.CapacityLimiter | None = None


def _euros(cents: int | None) -> str:
    return "" if cents is None else format_euros(int(cents))


def _day(value: date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["euros"] = _euros
    env.filters["day"] = _day
    env.filters["long_date"] = long_date
    return env


def render_html(template: str, **context: Any) -> str:
    return _environment().get_template(f"papers/{template}").render(**context)


def html_to_pdf(html: str) -> bytes:
    """Lay out one HTML document as PDF (blocking: call it from a worker thread)."""
    # Imported here: WeasyPrint loads Pango at import time, which only PDF work needs.
    from weasyprint import CSS, HTML

    document = HTML(string=html, base_url=str(TEMPLATES_DIR))
    result = document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])
    assert isinstance(result, bytes)
    return result


def render_pdf_sync(template: str, **context: Any) -> bytes:
    return html_to_pdf(render_html(template, **context))


def _get_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(MAX_CONCURRENT_RENDERS)
    return _limiter


async def render_pdf(template: str, **context: Any) -> bytes:
    """Render ``papers/<template>`` to PDF in a worker thread (bounded concurrency)."""
    html = render_html(template, **context)
    return await anyio.to_thread.run_sync(html_to_pdf, html, limiter=_get_limiter())


async def render_many(template: str, contexts: Iterable[dict[str, Any]]) -> list[bytes]:
    """Several documents of one template, one after the other in the worker thread."""
    htmls = [render_html(template, **context) for context in contexts]

    def work() -> list[bytes]:
        return [html_to_pdf(html) for html in htmls]

    return await anyio.to_thread.run_sync(work, limiter=_get_limiter())
