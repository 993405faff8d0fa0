"""Named SQL blocks loaded once from a package's ``queries/*.sql`` files.

A file is a sequence of blocks, each opened by a ``-- name: <identifier>`` line; the lines
that follow (comments included) up to the next header are that query's text::

    -- name: get_user
    -- One user by id; primary key lookup.
    SELECT id, email FROM users WHERE id = %(id)s

Texts stay byte-identical between calls, so psycopg's automatic prepared statements apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from typing import LiteralString

import msgspec

__all__ = ("Queries", "Query", "load_queries", "parse_queries")

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")
# Anything shaped like a header; one that is not a valid _HEADER is a typo, not a comment
# (taken as a comment it would silently glue the next statement onto the previous query).
_HEADER_LIKE = re.compile(r"^--\s*name\s*:", re.IGNORECASE)


class Query(msgspec.Struct, frozen=True):
    """One named statement."""

    name: str
    sql: LiteralString
    source: str


class Queries:
    """Attribute and item access to a package's named queries."""

    def __init__(self, queries: dict[str, Query]) -> None:
        self._queries = queries

    def __getattr__(self, name: str) -> Query:
        # Only called for names that are not regular attributes. Look ``_queries`` up
        # without recursing, so copy/pickle probing a half-built instance gets an
        # AttributeError instead of a RecursionError.
        queries: dict[str, Query] = self.__dict__.get("_queries", {})
        try:
            return queries[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r}") from None

    def __getitem__(self, name: str) -> Query:
        return self._queries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def __iter__(self) -> Iterator[Query]:
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def names(self) -> list[str]:
        return list(self._queries)


def parse_queries(text: str, source: str) -> dict[str, Query]:
    """Split one ``.sql`` file into its named blocks."""
    found: dict[str, Query] = {}
    name: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if name is None:
            return
        body = "\n".join(lines).strip()
        if not any(line.strip() and not line.strip().startswith("--") for line in lines):
            raise ValueError(f"{source}: query {name!r} has no statement")
        found[name] = Query(name, body, source)

    for number, raw in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(raw.strip())
        if match is None and _HEADER_LIKE.match(raw.strip()):
            raise ValueError(
                f"{source}:{number}: malformed query header {raw.strip()!r} "
                "(expected '-- name: <lowercase_identifier>')"
            )
        if match:
            flush()
            name = match.group(1)
            if name in found:
                raise ValueError(f"{source}: query {name!r} is defined twice")
            lines = []
        elif name is not None:
            lines.append(raw)
        elif raw.strip() and not raw.strip().startswith("--"):
            raise ValueError(f"{source}:{number}: SQL before the first '-- name:' header")
    flush()
    return found


def load_queries(package: str) -> Queries:
    """Load every ``*.sql`` file of ``package`` (e.g. ``"wealist.board.queries"``)."""
    merged: dict[str, Query] = {}
    root = resources.files(package)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        source = f"{package}/{entry.name}"
        for name, query in parse_queries(entry.read_text(encoding="utf-8"), source).items():
            if name in merged:
                raise ValueError(f"{source}: query {name!r} also defined in {merged[name].source}")
            merged[name] = query
    return Queries(merged)
