"""Forward-only migrations against real databases, from packages written to tmp_path."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from wealist.core.context import Runtime, ServiceContext, service_migrations
from wealist.core.db.migrate import (
    MigrationError,
    discover,
    ensure_database,
    migrate,
    pending,
    split_statements,
    verify,
)
from wealist.services import spec

FreshDatabase = Callable[[str], Awaitable[str]]


@dataclass
class Stream:
    """A migration package on disk that a test can add files to and edit."""

    name: str
    package: str
    path: Path

    def write(self, filename: str, text: str) -> None:
        (self.path / filename).write_text(text, encoding="utf-8")

    def migrations(self) -> list[Any]:
        return discover(self.name, self.package)

    def label(self, filename: str) -> str:
        return f"{self.name}/{filename}"


@pytest.fixture
def make_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Stream]]:
    monkeypatch.syspath_prepend(str(tmp_path))
    roots: list[str] = []

    def make(files: dict[str, str], name: str = "app") -> Stream:
        root = f"wlt_migrations_{uuid.uuid4().hex[:8]}"
        path = tmp_path / root
        path.mkdir()
        (path / "__init__.py").write_text("")
        stream = Stream(name, root, path)
        for filename, text in files.items():
            stream.write(filename, text)
        roots.append(root)
        importlib.invalidate_caches()
        return stream

    yield make
    for module in list(sys.modules):
        if any(module == root or module.startswith(f"{root}.") for root in roots):
            del sys.modules[module]


async def rows(url: str, query: Any, params: Any = None) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall()


async def recorded(url: str) -> list[tuple[str, int, str, str]]:
    found = await rows(
        url,
        "SELECT stream, version, name, checksum FROM wealist_migrations ORDER BY stream, version",
    )
    return [(r[0], r[1], r[2], r[3]) for r in found]


async def table_exists(url: str, name: str) -> bool:
    return bool((await rows(url, "SELECT to_regclass(%s) IS NOT NULL", (name,)))[0][0])


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


BASE = {
    "0001_widgets.sql": "CREATE TABLE widgets (id serial PRIMARY KEY, label text NOT NULL);\n",
    "0002_widget_size.sql": (
        "-- Sizes.\nALTER TABLE widgets ADD COLUMN size integer NOT NULL DEFAULT 0;\n"
    ),
    "0003_seed.sql": "INSERT INTO widgets (label, size) VALUES ('gear', 3), ('cog', 100);\n",
}


# --- discovery ----------------------------------------------------------------------------


def test_discover_orders_by_version_and_ignores_other_files(
    make_stream: Callable[..., Stream],
) -> None:
    stream = make_stream({**BASE, "README.md": "notes", "helpers.py": ""})
    found = stream.migrations()
    assert [m.label for m in found] == [
        "app/0001_widgets.sql",
        "app/0002_widget_size.sql",
        "app/0003_seed.sql",
    ]
    assert [m.checksum for m in found] == [sha256(BASE[f]) for f in sorted(BASE)]
    assert all(m.transactional for m in found)


def test_a_gap_in_numbering_is_rejected(make_stream: Callable[..., Stream]) -> None:
    stream = make_stream({"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 3;"})
    with pytest.raises(MigrationError, match=r"expected migration 0002, found app/0003_c\.sql"):
        stream.migrations()


def test_a_duplicate_number_is_rejected(make_stream: Callable[..., Stream]) -> None:
    stream = make_stream({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"})
    with pytest.raises(MigrationError, match=r"expected migration 0002, found app/0001_b\.sql"):
        stream.migrations()


@pytest.mark.parametrize(
    "filename", ["002_short.sql", "0002-dash.sql", "0002_Upper.sql", "extra.sql"]
)
def test_a_misnamed_sql_file_is_rejected_not_skipped(
    make_stream: Callable[..., Stream], filename: str
) -> None:
    stream = make_stream({"0001_a.sql": "SELECT 1;", filename: "SELECT 2;"})
    with pytest.raises(MigrationError, match=rf"/{filename}: a migration is named NNNN_"):
        stream.migrations()


# --- applying -----------------------------------------------------------------------------


async def test_migrate_applies_in_order_and_records_checksums(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(BASE)
    url = await fresh_database("migrate")

    applied = await migrate(url, stream.migrations())

    assert [m.label for m in applied] == [m.label for m in stream.migrations()]
    assert await recorded(url) == [
        ("app", 1, "widgets", sha256(BASE["0001_widgets.sql"])),
        ("app", 2, "widget_size", sha256(BASE["0002_widget_size.sql"])),
        ("app", 3, "seed", sha256(BASE["0003_seed.sql"])),
    ]
    assert await rows(url, "SELECT label, size FROM widgets ORDER BY id") == [
        ("gear", 3),
        ("cog", 100),
    ]
    await verify(url, stream.migrations())


async def test_migrating_again_is_a_no_op(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(BASE)
    url = await fresh_database("migrate")
    await migrate(url, stream.migrations())
    before = await rows(
        url, "SELECT stream, version, applied_at FROM wealist_migrations ORDER BY 1, 2"
    )

    assert await migrate(url, stream.migrations()) == []

    assert (
        await rows(url, "SELECT stream, version, applied_at FROM wealist_migrations ORDER BY 1, 2")
        == before
    )
    assert await rows(url, "SELECT count(*) FROM widgets") == [(2,)]


async def test_new_files_are_applied_after_the_recorded_ones(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream({"0001_widgets.sql": BASE["0001_widgets.sql"]})
    url = await fresh_database("migrate")
    await migrate(url, stream.migrations())
    stream.write("0002_widget_size.sql", BASE["0002_widget_size.sql"])

    with pytest.raises(MigrationError, match=r"not migrated \(app/0002_widget_size\.sql\)"):
        await verify(url, stream.migrations())
    assert [m.label for m in await pending(url, stream.migrations())] == [
        "app/0002_widget_size.sql"
    ]
    assert [m.label for m in await migrate(url, stream.migrations())] == [
        "app/0002_widget_size.sql"
    ]
    await verify(url, stream.migrations())


async def test_verify_refuses_an_empty_database(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(BASE)
    url = await fresh_database("migrate")
    with pytest.raises(MigrationError, match="database is not migrated"):
        await verify(url, stream.migrations())
    assert not await table_exists(url, "wealist_migrations")  # verify never writes


async def test_streams_are_recorded_separately(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    shared = make_stream({"0001_shared.sql": "CREATE TABLE shared (id int);"}, name="shared")
    own = make_stream({"0001_own.sql": "CREATE TABLE own (id int);"}, name="own")
    url = await fresh_database("migrate")

    await migrate(url, shared.migrations() + own.migrations())

    assert [(s, v, n) for s, v, n, _ in await recorded(url)] == [
        ("own", 1, "own"),
        ("shared", 1, "shared"),
    ]


# --- checksum refusal ---------------------------------------------------------------------


async def test_an_edited_applied_file_makes_migrate_and_verify_refuse(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(BASE)
    url = await fresh_database("migrate")
    await migrate(url, stream.migrations())
    stream.write(
        "0002_widget_size.sql", BASE["0002_widget_size.sql"].replace("DEFAULT 0", "DEFAULT 1")
    )
    stream.write("0004_more.sql", "CREATE TABLE more (id int);")
    before = await recorded(url)

    edited = r"app/0002_widget_size\.sql was edited after it was applied"
    with pytest.raises(MigrationError, match=edited):
        await migrate(url, stream.migrations())
    with pytest.raises(MigrationError, match=edited):
        await verify(url, stream.migrations())

    assert await recorded(url) == before  # the pending 0004 was not applied either
    assert not await table_exists(url, "more")


async def assert_app_refuses_to_start(client: Any, pattern: str) -> None:
    """The app's lifespan raised MigrationError (the test client may wrap it in a group)."""
    with pytest.raises((MigrationError, ExceptionGroup)) as info:
        async with client:
            pytest.fail("the app started")
    if isinstance(info.value, ExceptionGroup):
        assert info.group_contains(MigrationError, match=pattern)
    else:
        info.match(pattern)


async def test_a_service_refuses_to_start_when_a_recorded_checksum_differs(
    environment: Any, app_client: Callable[..., Any], fresh_database: FreshDatabase
) -> None:
    user = spec("user")
    url = await fresh_database("svc")
    await migrate(url, service_migrations(user))
    changed = await rows(
        url,
        "UPDATE wealist_migrations SET checksum = repeat('0', 64)"
        " WHERE (stream, version) = (SELECT stream, version FROM wealist_migrations"
        " ORDER BY stream, version LIMIT 1) RETURNING stream, version, name",
    )
    stream, version, name = changed[0]
    edited = rf"{stream}/{version:04d}_{name}\.sql was edited after it was applied"

    # The service's own lifespan (what every app runs at start-up) ...
    for migrate_on_start in (False, True):
        runtime = Runtime()
        ctx = ServiceContext(
            user,
            environment.settings("user", database_url=url, migrate_on_start=migrate_on_start),
            runtime,
        )
        try:
            with pytest.raises(MigrationError, match=edited):
                async with ctx.lifespan():
                    pytest.fail("the service started")
        finally:
            await runtime.close()

    # ... and the built app: starting it fails, nothing serves.
    await assert_app_refuses_to_start(app_client("user", database_url=url), edited)


async def test_a_service_refuses_to_start_on_an_unmigrated_database(
    app_client: Callable[..., Any], fresh_database: FreshDatabase
) -> None:
    url = await fresh_database("svc")
    await assert_app_refuses_to_start(
        app_client("user", database_url=url), "database is not migrated"
    )


# --- failures and special files ----------------------------------------------------------


async def test_a_failing_migration_leaves_nothing_of_itself(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(
        {
            "0001_widgets.sql": BASE["0001_widgets.sql"],
            "0002_broken.sql": "CREATE TABLE gadgets (id int);\nINSERT INTO nowhere VALUES (1);\n",
            "0003_after.sql": "CREATE TABLE after_broken (id int);\n",
        }
    )
    url = await fresh_database("migrate")

    with pytest.raises(MigrationError, match=r"app/0002_broken\.sql failed: .*nowhere"):
        await migrate(url, stream.migrations())

    assert [(s, v) for s, v, _, _ in await recorded(url)] == [("app", 1)]
    assert await table_exists(url, "widgets")
    assert not await table_exists(url, "gadgets")
    assert not await table_exists(url, "after_broken")

    # An unapplied file may be fixed; the next run applies it and what follows.
    stream.write("0002_broken.sql", "CREATE TABLE gadgets (id int);\n")
    assert [m.label for m in await migrate(url, stream.migrations())] == [
        "app/0002_broken.sql",
        "app/0003_after.sql",
    ]


async def test_no_transaction_files_can_create_indexes_concurrently(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    concurrently = (
        "-- wealist: no-transaction\n"
        "-- Two indexes, built without blocking writes.\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS widgets_label_idx ON widgets (label);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS widgets_size_idx ON widgets (size);\n"
    )
    stream = make_stream({**BASE, "0004_indexes.sql": concurrently})
    url = await fresh_database("migrate")

    applied = await migrate(url, stream.migrations())

    assert applied[-1].label == "app/0004_indexes.sql"
    assert not applied[-1].transactional
    assert await rows(
        url,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname LIKE 'widgets\\_%%\\_idx' ORDER BY 1",
    ) == [("widgets_label_idx", True), ("widgets_size_idx", True)]
    assert (await recorded(url))[-1] == ("app", 4, "indexes", sha256(concurrently))


async def test_create_index_concurrently_needs_the_no_transaction_marker(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(
        {
            **BASE,
            "0004_index.sql": "CREATE INDEX CONCURRENTLY widgets_label_idx ON widgets (label);\n",
        }
    )
    url = await fresh_database("migrate")
    with pytest.raises(MigrationError, match=r"0004_index\.sql failed: .*transaction block"):
        await migrate(url, stream.migrations())
    assert [v for _, v, _, _ in await recorded(url)] == [1, 2, 3]


async def test_percent_signs_and_session_settings_do_not_leak(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    stream = make_stream(
        {
            "0001_schema.sql": (
                "CREATE SCHEMA side;\n"
                "SET search_path TO side;\n"  # session-level: outlives the transaction
                "CREATE TABLE notes (body text NOT NULL DEFAULT '100%% sure'"
                " CHECK (body NOT LIKE '%secret%'));\n"
            ),
            "0002_main.sql": "CREATE TABLE main_table (id int);\n",
        }
    )
    url = await fresh_database("migrate")
    await migrate(url, stream.migrations())
    assert await table_exists(url, "side.notes")
    assert await table_exists(url, "public.main_table")
    # The file's text reached the server verbatim: no placeholder processing of ``%``.
    assert await rows(url, "INSERT INTO side.notes DEFAULT VALUES RETURNING body") == [
        ("100%% sure",)
    ]
    with pytest.raises(psycopg.errors.CheckViolation):
        await rows(url, "INSERT INTO side.notes VALUES ('a secret')")


async def test_concurrent_migrators_apply_each_file_exactly_once(
    make_stream: Callable[..., Stream], fresh_database: FreshDatabase
) -> None:
    files = {
        "0001_log.sql": (
            "CREATE TABLE applied_log (version int NOT NULL);\nINSERT INTO applied_log VALUES (1);"
        )
    }
    for version in range(2, 6):
        # Slow, and not idempotent: a second application would add a row.
        files[f"{version:04d}_step.sql"] = (
            f"SELECT pg_sleep(0.05);\nINSERT INTO applied_log VALUES ({version});\n"
        )
    stream = make_stream(files)
    url = await fresh_database("migrate")

    results = await asyncio.gather(*(migrate(url, stream.migrations()) for _ in range(4)))

    labels = sorted(m.label for result in results for m in result)
    assert labels == sorted(m.label for m in stream.migrations())  # each once, in total
    assert await rows(url, "SELECT version, count(*) FROM applied_log GROUP BY 1 ORDER BY 1") == [
        (v, 1) for v in range(1, 6)
    ]
    assert len(await recorded(url)) == 5


async def test_migrate_reports_a_database_that_does_not_exist(
    make_stream: Callable[..., Stream], pg_url: str
) -> None:
    from wealist.core.settings import with_database

    stream = make_stream(BASE)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        await migrate(
            with_database(pg_url, f"wlt_missing_{uuid.uuid4().hex[:8]}"), stream.migrations()
        )


# --- ensure_database ----------------------------------------------------------------------


async def test_ensure_database_is_idempotent(pg_url: str) -> None:
    name = f"wlt_ensure_{uuid.uuid4().hex[:8]}"
    try:
        assert await ensure_database(pg_url, name) is True
        assert await ensure_database(pg_url, name) is False
        assert await rows(
            pg_url, "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
        ) == [(1,)]

        other = f"wlt_ensure_{uuid.uuid4().hex[:8]}"
        name = f"{name},{other}"  # both are dropped below
        created = await asyncio.gather(*(ensure_database(pg_url, other) for _ in range(4)))
        assert sorted(created) == [False, False, False, True]
    finally:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            for db in name.split(","):
                await conn.execute(
                    pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        pgsql.Identifier(db)
                    )
                )


# --- statement splitting (no-transaction files) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1;\n\n-- trailing comment\n", ["SELECT 1"]),
        ("SELECT 'a;b', \"c;d\"; SELECT 2", ["SELECT 'a;b', \"c;d\"", "SELECT 2"]),
        ("SELECT 'it''s;'; SELECT E'\\';'", ["SELECT 'it''s;'", "SELECT E'\\';'"]),
        (
            "-- a; b\nSELECT 1 /* x; /* nested; */ y; */;",
            ["-- a; b\nSELECT 1 /* x; /* nested; */ y; */"],
        ),
        (
            "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;"
            " DO $$ BEGIN; END $$;",
            [
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
                "DO $$ BEGIN; END $$",
            ],
        ),
        ("SELECT $1; SELECT a$b FROM t", ["SELECT $1", "SELECT a$b FROM t"]),
        (";;  ;", []),
    ],
)
def test_split_statements(text: str, expected: list[str]) -> None:
    assert split_statements(text) == expected
