"""Named SQL blocks: parsing rules and loading from a real package on disk."""

from __future__ import annotations

import copy
import importlib
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest

from wealist.core.db import Database
from wealist.core.db.queries import Query, load_queries, parse_queries


def test_blocks_are_split_on_headers_and_keep_their_comments() -> None:
    text = """-- Queries of the widgets table.

-- name: get_widget
-- One widget by id; primary key lookup.
SELECT id, label
FROM widgets
WHERE id = %(id)s

--   name:   list_widgets
SELECT id, label FROM widgets ORDER BY id -- stable order
"""
    found = parse_queries(text, "widgets.sql")

    assert list(found) == ["get_widget", "list_widgets"]
    assert found["get_widget"] == Query(
        "get_widget",
        "-- One widget by id; primary key lookup.\n"
        "SELECT id, label\nFROM widgets\nWHERE id = %(id)s",
        "widgets.sql",
    )
    assert found["list_widgets"].sql == "SELECT id, label FROM widgets ORDER BY id -- stable order"


def test_the_text_is_identical_on_every_parse() -> None:
    text = "-- name: one\nSELECT 1\n"
    assert parse_queries(text, "a.sql")["one"].sql == parse_queries(text, "a.sql")["one"].sql


def test_a_name_defined_twice_is_rejected() -> None:
    text = "-- name: a\nSELECT 1\n-- name: b\nSELECT 2\n-- name: a\nSELECT 3\n"
    with pytest.raises(ValueError, match=r"dup\.sql: query 'a' is defined twice"):
        parse_queries(text, "dup.sql")


def test_sql_before_the_first_header_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"early\.sql:2: SQL before the first '-- name:' header"):
        parse_queries("-- a comment is fine\nSELECT 1\n-- name: a\nSELECT 2\n", "early.sql")


@pytest.mark.parametrize(
    "text",
    [
        "-- name: empty\n-- name: next\nSELECT 1\n",
        "-- name: next\nSELECT 1\n-- name: empty\n",
        "-- name: only_comments\n-- just a comment\n\n   \n",
    ],
)
def test_a_block_without_a_statement_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="has no statement"):
        parse_queries(text, "empty.sql")


@pytest.mark.parametrize("header", ["-- name: getWidget", "-- Name: get_widget", "-- name: 1st"])
def test_a_malformed_header_is_rejected_rather_than_glued_to_the_previous_query(
    header: str,
) -> None:
    text = f"-- name: first\nSELECT 1\n{header}\nSELECT 2\n"
    with pytest.raises(ValueError, match=r"bad\.sql:3: malformed query header"):
        parse_queries(text, "bad.sql")


def test_an_empty_file_has_no_queries() -> None:
    assert parse_queries("", "none.sql") == {}
    assert parse_queries("-- nothing here yet\n", "none.sql") == {}


# --- load_queries over a real package -----------------------------------------------------


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """``make_package({"a.sql": "..."})`` -> the dotted name of an importable package."""
    monkeypatch.syspath_prepend(str(tmp_path))
    roots: list[str] = []

    def make(files: dict[str, str]) -> str:
        root = f"wlt_queries_{uuid.uuid4().hex[:8]}"
        package = tmp_path / root / "queries"
        package.mkdir(parents=True)
        (tmp_path / root / "__init__.py").write_text("")
        (package / "__init__.py").write_text("")
        for name, text in files.items():
            (package / name).write_text(text, encoding="utf-8")
        roots.append(root)
        importlib.invalidate_caches()
        return f"{root}.queries"

    yield make
    for name in list(sys.modules):
        if any(name == root or name.startswith(f"{root}.") for root in roots):
            del sys.modules[name]


def test_load_queries_merges_every_sql_file_of_the_package(
    make_package: Callable[..., str],
) -> None:
    package = make_package(
        {
            "widgets.sql": "-- name: get_widget\nSELECT id, label FROM widgets WHERE id = %(id)s\n",
            "counts.sql": "-- name: count_widgets\n-- How many.\nSELECT count(*) FROM widgets\n",
            "notes.txt": "-- name: not_loaded\nSELECT 1\n",
        }
    )

    queries = load_queries(package)

    assert sorted(queries.names()) == ["count_widgets", "get_widget"]
    assert len(queries) == 2
    assert queries.get_widget is queries["get_widget"]
    assert queries.get_widget.source == f"{package}/widgets.sql"
    assert queries.count_widgets.sql == "-- How many.\nSELECT count(*) FROM widgets"
    assert "get_widget" in queries
    assert "not_loaded" not in queries
    assert {q.name for q in queries} == {"count_widgets", "get_widget"}
    with pytest.raises(AttributeError, match="no query named 'not_loaded'"):
        _ = queries.not_loaded
    assert copy.copy(queries).get_widget == queries.get_widget


def test_load_queries_rejects_a_name_defined_in_two_files(make_package: Callable[..., str]) -> None:
    package = make_package(
        {"a.sql": "-- name: twice\nSELECT 1\n", "b.sql": "-- name: twice\nSELECT 2\n"}
    )
    with pytest.raises(
        ValueError, match=rf"{package}/b\.sql: query 'twice' also defined in {package}/a\.sql"
    ):
        load_queries(package)


def test_load_queries_reports_the_file_of_a_parse_error(make_package: Callable[..., str]) -> None:
    package = make_package({"broken.sql": "SELECT 1\n"})
    with pytest.raises(ValueError, match=rf"{package}/broken\.sql:1: SQL before"):
        load_queries(package)


class Widget(msgspec.Struct):
    id: int
    label: str


async def test_loaded_queries_run_as_written(
    make_package: Callable[..., str], fresh_database: Callable[[str], Awaitable[str]]
) -> None:
    package = make_package(
        {
            "widgets.sql": (
                "-- name: add_widget\n"
                "-- A percent sign in a literal stays a literal: 100%%.\n"
                "INSERT INTO widgets (label) VALUES (%(label)s || ' 100%%') RETURNING id\n"
                "\n"
                "-- name: get_widget\n"
                "SELECT id, label FROM widgets WHERE id = %(id)s\n"
            )
        }
    )
    queries = load_queries(package)
    url = await fresh_database("queries")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE widgets (id serial PRIMARY KEY, label text NOT NULL)")
    db = Database("widgets", url, min_size=1, max_size=2)
    await db.open(wait=True)
    try:
        async with db.transaction() as tx:
            new_id = await tx.fetch_val(queries.add_widget, {"label": "gear"})
        async with db.connection() as conn:
            found = await conn.fetch_one(queries.get_widget, {"id": new_id}, Widget)
    finally:
        await db.close()
    assert found == Widget(id=new_id, label="gear 100%")
