"""The stylesheet parses as flat CSS: a rule left without its closing brace (as two merges
did) silently swallows every rule after it into one invalid block."""

from __future__ import annotations

from pathlib import Path

import tinycss2
from tinycss2.ast import CurlyBracketsBlock, ParseError, QualifiedRule

ROOT = Path(__file__).parents[2]
STYLESHEETS = sorted([*(ROOT / "static").glob("*.css"), *(ROOT / "src").rglob("*.css")])


def _rules(nodes: list[object]) -> list[QualifiedRule]:
    found: list[QualifiedRule] = []
    for node in nodes:
        if isinstance(node, QualifiedRule):
            found.append(node)
        elif getattr(node, "content", None) is not None and getattr(node, "at_keyword", None):
            # @media and @supports hold rules; their blocks are parsed as a stylesheet.
            found.extend(_rules(tinycss2.parse_rule_list(node.content)))  # type: ignore[attr-defined]
    return found


def test_every_rule_of_the_stylesheets_is_closed() -> None:
    assert STYLESHEETS
    for sheet in STYLESHEETS:
        nodes = tinycss2.parse_stylesheet(
            sheet.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True
        )
        errors = [n for n in nodes if isinstance(n, ParseError)]
        assert not errors, (sheet.name, errors)
        nested = [
            (sheet.name, rule.source_line)
            for rule in _rules(nodes)
            if any(isinstance(token, CurlyBracketsBlock) for token in rule.content)
        ]
        assert not nested, f"règle non fermée avant un bloc imbriqué : {nested}"
