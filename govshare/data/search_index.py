"""检索索引: the index behind the data exchange's search on searchable items (检索).

A search asks for the records whose searchable items equal given values. Reading a resource's
records and parsing each one's JSON would touch millions of rows per call, so each load writes, in its
own transaction, one ``data_search_term`` row per (searchable item, value, record), and a search is a
range read of that table's primary key. Only searchable items get terms, and a lone key item none:
``data_record``'s unique key index already finds it.

``data_search_item`` lists the items whose terms are complete. An item declared searchable after its
records were loaded (or loaded before this index existed) has no terms yet: the next load of its
resource, or its first search (:func:`ensure`), builds them from the current records; each load drops
the terms of items no longer searchable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, delete, func, literal, select
from sqlalchemy.orm import aliased

from govshare.catalog.models import Item
from govshare.data.models import Record, SearchIndexedItem, SearchTerm

TERM_LENGTH = 200  # characters of a value kept in the index; longer values are compared in full
RAREST_SAMPLE = 1000  # terms counted per condition, at most, to pick the one that drives a search
_TERM_COLUMNS = "resource_id, item, value, record_key"

Insert = Callable[[str, str, list[tuple[Any, ...]]], None]  # BatchWriter's (table, columns, rows)
StoredRow = Sequence[Any]  # a data_record row as BatchWriter reads it: (id, record_key, data, …)


def term_items(items: Iterable[Any]) -> list[str]:
    """The items that get terms (anything with ``name``, ``is_key``, ``searchable``, such as catalog
    Items): the searchable ones, but a lone key item, which the record key itself indexes."""
    items = list(items)
    keys = [i.name for i in items if i.is_key]
    lone_key = keys[0] if len(keys) == 1 else None
    return [i.name for i in items if i.searchable and i.name != lone_key]


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _value_sql(conn: Connection, item: str) -> tuple[str, str]:
    """SQL for ``item``'s value in ``data_record.data``, and its parameter."""
    if conn.dialect.name == "postgresql":
        return "data::json ->> %s::text", item
    if '"' in item:  # a JSON path cannot quote it: find the member by its name instead
        return "(SELECT j.value FROM json_each(data) AS j WHERE j.key = ?)", item
    if sqlite3.sqlite_version_info >= (3, 38):
        return "data ->> ?", f'$."{item}"'  # faster than json_extract, where SQLite has it
    return "json_extract(data, ?)", f'$."{item}"'


def _copy_terms(conn: Connection, item: str, where: str, params: tuple[Any, ...]) -> None:
    """Terms of ``item`` for the records ``where`` selects, computed by the database from their JSON."""
    ph = _placeholder(conn)
    value, param = _value_sql(conn, item)
    conn.exec_driver_sql(
        f"INSERT INTO data_search_term ({_TERM_COLUMNS}) "
        f"SELECT resource_id, {ph}, substr(v, 1, {TERM_LENGTH}), record_key FROM "
        f"(SELECT resource_id, record_key, {value} AS v FROM data_record WHERE {where}) AS r WHERE v IS NOT NULL",
        (item, param, *params),
    )


def _indexed(conn: Connection, resource_id: int) -> set[str]:
    return set(
        conn.scalars(select(SearchIndexedItem.item).where(SearchIndexedItem.resource_id == resource_id))
    )


def ensure(conn: Connection, resource_id: int, items: Iterable[str]) -> None:
    """Build the terms of those ``items`` that are not complete yet, from every current record.

    The marker row is claimed first (``ON CONFLICT DO NOTHING``): a concurrent search or load that
    claimed it too waits for the first transaction and then finds the terms there."""
    items = list(items)
    indexed = _indexed(conn, resource_id) if items else set()
    ph = _placeholder(conn)
    for item in (i for i in items if i not in indexed):
        claimed = conn.exec_driver_sql(
            f"INSERT INTO data_search_item (resource_id, item) VALUES ({ph}, {ph}) ON CONFLICT DO NOTHING",
            (resource_id, item),
        ).rowcount
        if claimed:
            conn.execute(
                delete(SearchTerm).where(SearchTerm.resource_id == resource_id, SearchTerm.item == item)
            )
            _copy_terms(conn, item, f"resource_id = {ph}", (resource_id,))


def sync(conn: Connection, resource_id: int, items: Sequence[str]) -> None:
    """Make the terms of ``resource_id`` cover exactly ``items``: build the missing, drop the others."""
    for item in _indexed(conn, resource_id) - set(items):
        conn.execute(delete(SearchTerm).where(SearchTerm.resource_id == resource_id, SearchTerm.item == item))
        conn.execute(
            delete(SearchIndexedItem).where(
                SearchIndexedItem.resource_id == resource_id, SearchIndexedItem.item == item
            )
        )
    ensure(conn, resource_id, items)


class TermWriter:
    """Keeps one resource's terms in step with the records a BatchWriter writes, in its transaction.

    New records' terms are copied by SQLite from the rows just written (by rowid range, as the change
    log is), and built from the JSON texts as COPY rows on PostgreSQL; an update rewrites only the
    terms whose value changed; a deletion removes the record's terms. A resource without searchable
    items costs nothing beyond reading its items once.
    """

    def __init__(self, conn: Connection, resource_id: int, insert: Insert) -> None:
        self.conn, self.resource_id, self.insert = conn, resource_id, insert
        catalog = conn.execute(
            select(Item.name, Item.is_key, Item.searchable).where(Item.resource_id == resource_id)
        ).all()
        self.items = term_items(catalog)
        sync(conn, resource_id, self.items)

    def inserted(self, new: Sequence[tuple[str, str]], rowids: tuple[int, int] | None = None) -> None:
        """Records just inserted: ``new`` as (key, JSON), or on SQLite their first and last rowid."""
        if not self.items:
            return
        if rowids is not None:
            ph = _placeholder(self.conn)
            for item in self.items:
                _copy_terms(self.conn, item, f"id BETWEEN {ph} AND {ph}", rowids)
            return
        # In primary-key order: PostgreSQL's B-tree inserts then touch neighbouring pages (measured:
        # COPY of 200,000 terms in chunks of 5,000, 1.8 s shuffled, 1.4 s sorted).
        self.insert("data_search_term", _TERM_COLUMNS, sorted(self._terms(new)))

    def updated(self, keyed: Iterable[tuple[int, str, str]], existing: Mapping[str, StoredRow]) -> None:
        """Records of ``keyed`` (row, key, new JSON) that replaced a different ``existing`` row."""
        if not self.items or not existing:
            return
        gone: list[tuple[Any, ...]] = []
        added: list[tuple[Any, ...]] = []
        for _, key, data in keyed:
            old = existing.get(key)
            if old is None or old[2] == data:
                continue
            before, after = set(self._terms([(key, old[2])])), set(self._terms([(key, data)]))
            gone += before - after
            added += after - before
        self._remove(gone)
        if added:
            self.insert("data_search_term", _TERM_COLUMNS, added)

    def deleted(self, rows: Iterable[StoredRow]) -> None:
        """Records just deleted, as they were stored."""
        if self.items:
            self._remove(self._terms((row[1], row[2]) for row in rows))

    def _terms(self, records: Iterable[tuple[str, str]]) -> list[tuple[Any, ...]]:
        rid, items, loads = self.resource_id, self.items, orjson.loads
        terms = []
        for key, data in records:
            values = loads(data)
            for item in items:
                value = values.get(item)
                if value is not None:
                    terms.append((rid, item, str(value)[:TERM_LENGTH], key))
        return terms

    def _remove(self, terms: list[tuple[Any, ...]]) -> None:
        if terms:
            ph = _placeholder(self.conn)
            self.conn.exec_driver_sql(
                f"DELETE FROM data_search_term WHERE resource_id = {ph} AND item = {ph} AND value = {ph} "
                f"AND record_key = {ph}",
                terms,
            )


# --- reading ---------------------------------------------------------------------------------------


def rarest_first(conn: Connection, resource_id: int, terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``terms`` (item, value) with the one matching the fewest records first, each counted up to
    RAREST_SAMPLE: the first term drives the search, so 姓名 and 性别 together read the 姓名 range."""
    if len(terms) < 2:
        return terms

    def count(term: tuple[str, str]) -> int:
        sample = (
            select(literal(1)).where(*_term_is(SearchTerm, resource_id, term)).limit(RAREST_SAMPLE).subquery()
        )
        return conn.scalar(select(func.count()).select_from(sample)) or 0

    return sorted(terms, key=count)


def _term_is(term: Any, resource_id: int, condition: tuple[str, str]) -> tuple[Any, ...]:
    item, value = condition
    return term.resource_id == resource_id, term.item == item, term.value == value[:TERM_LENGTH]


def matching_records(
    resource_id: int, terms: list[tuple[str, str]], key: str | None = None, after: str = ""
) -> Select[str, str, int, datetime, int]:
    """The current records of ``resource_id`` whose items equal every (item, value) of ``terms`` and,
    when given, whose stored key is ``key``, in key order after the key ``after``.

    The first term's primary-key range drives (equal resource, item and value, so its entries are in
    key order already: no sort, and a LIMIT stops the read); every other term and the record are one
    primary-key or unique-key probe per candidate. Values longer than TERM_LENGTH match on their
    prefix here: the caller compares them in full. The caller adds columns, joins and the limit.
    """
    columns = (Record.record_key, Record.data, Record.version, Record.valid_from, Record.batch_id)
    if not terms:
        assert key is not None, "a search needs a key or a term"
        return select(*columns).where(
            Record.resource_id == resource_id, Record.record_key == key, Record.record_key > after
        )
    first, *others = (aliased(SearchTerm, name=f"t{n}") for n in range(len(terms)))
    stmt = (
        select(*columns)
        .select_from(first)
        .join(Record, and_(Record.resource_id == resource_id, Record.record_key == first.record_key))
        .where(*_term_is(first, resource_id, terms[0]), first.record_key > after)
    )
    for alias, term in zip(others, terms[1:], strict=True):
        stmt = stmt.join(
            alias, and_(*_term_is(alias, resource_id, term), alias.record_key == first.record_key)
        )
    if key is not None:
        stmt = stmt.where(first.record_key == key)
    return stmt.order_by(first.record_key)
