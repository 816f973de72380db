"""Many new rows of one table in one go: PostgreSQL's binary COPY, an executemany elsewhere.

Why COPY: a drain batch writes every step of its runs (five per run of the coupon workflow),
its notes and its captured messages as new rows. An executemany through psycopg's pipeline
costs Python work per row (the query converted, every parameter dumped, a result read back);
binary COPY sends all rows as one stream, each row formatted by psycopg's C code. The drain's
instructions per event, 2246b49 against 6bc07a0, before COPY (``bench/instructions.py``;
the new executions are written by COPY too): batches of 4, 6.76 M against 7.92 M; of 20,
5.03 M against 5.94 M; of 1 (two round trips per COPY against one), 14.7 M against 16.2 M.
PostgreSQL checks constraints and fires triggers for COPY as for INSERT, and a failure rolls
the transaction back the same way.

What the INSERT did on the way that COPY does not, done here: a column missing from the rows
gets its Python-side default (``default=utcnow``, ``default=dict``...), and a column whose
type is a ``TypeDecorator`` (``UTCDateTime``: a naive datetime is UTC) gets its bind step.
JSON columns are written by psycopg's JSONB dumper, which the SQLAlchemy dialect gave the same
``json_serializer`` as every other statement (:mod:`backend.json_codec`). The columns' types
are the database's own (read once per table and engine), so COPY's binary format matches them.
"""

from __future__ import annotations

__all__ = ["insert_rows"]

import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator


def insert_rows(conn, table: Table, rows: list[dict]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` through ``conn`` (a SQLAlchemy
    connection, in the caller's transaction)."""
    if not rows:
        return
    keys = frozenset(rows[0])
    unknown = keys.difference(table.columns.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column {sorted(unknown)[0]!r}")
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    plan = _plan(conn, table, keys)
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            # Seen by the engine's statement listeners (counters, logs) as an executemany.
            conn.dispatch.before_cursor_execute(conn, cursor, plan.text, rows, None, True)
            with cursor.copy(plan.statement) as copy:
                copy.set_types(plan.oids)
                for row in rows:
                    copy.write_row([fill(row) for fill in plan.fills])
            conn.dispatch.after_cursor_execute(conn, cursor, plan.text, rows, None, True)
    except psycopg.Error as exc:
        raise _as_sqlalchemy(conn, exc, plan) from exc


def _as_sqlalchemy(conn, exc: psycopg.Error, plan: _Plan) -> DBAPIError:
    """``exc`` as SQLAlchemy raises a driver's error (``IntegrityError``, ``OperationalError``
    ...), which is what callers catch; a lost connection is invalidated, as SQLAlchemy does."""
    raw = conn.connection.driver_connection
    if conn.dialect.is_disconnect(exc, raw, None):
        conn.invalidate(exc)
    return DBAPIError.instance(plan.text, None, exc, psycopg.Error)


class _Plan:
    """How rows with one set of keys go into one table: the COPY statement (bytes, rendered
    once: psycopg would render a composed one at every call) and its text, the columns' type
    oids, and per column a function giving its value from a row."""

    def __init__(self, statement: bytes, text: str, oids: list[int], fills: list[Callable]):
        self.statement, self.text, self.oids, self.fills = statement, text, oids, fills


_plans: dict[tuple, _Plan] = {}
_oids: dict[tuple, dict[str, int]] = {}
_lock = threading.Lock()


def _plan(conn, table: Table, keys: frozenset) -> _Plan:
    key = (id(conn.engine), table.name, keys)
    plan = _plans.get(key)
    if plan is None:
        oids = _column_oids(conn, table)
        columns = [c for c in table.columns if c.name in keys or _python_default(c)]
        raw = conn.connection.driver_connection
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        )
        fills = [_fill(c, conn.dialect, present=c.name in keys) for c in columns]
        types = [oids[c.name] for c in columns]
        plan = _Plan(statement.as_bytes(raw), statement.as_string(raw), types, fills)
        with _lock:
            _plans[key] = plan
    return plan


def _column_oids(conn, table: Table) -> dict[str, int]:
    """The type oid of each of ``table``'s columns, as the database has them."""
    key = (id(conn.engine), table.name)
    oids = _oids.get(key)
    if oids is None:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table.name,),
            )
            oids = dict(cursor.fetchall())
        with _lock:
            _oids[key] = oids
    return oids


def _python_default(column) -> bool:
    default = column.default
    return default is not None and (default.is_scalar or default.is_callable)


def _fill(column, dialect, *, present: bool) -> Callable[[dict], object]:
    """A function giving ``column``'s value from a row: the row's own, else the column's
    default (SQLAlchemy wraps a callable one to take an execution context); through the
    type's bind step where it has one."""
    name, default = column.name, column.default

    def value(row):
        if present:
            return row[name]
        return default.arg if default.is_scalar else default.arg(None)

    if not isinstance(column.type, TypeDecorator):
        return value
    bind = column.type.process_bind_param
    return lambda row: bind(value(row), dialect)
