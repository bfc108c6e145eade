"""Bulk export (批量导出) through the exchange: every record streamed in chunks, granted items only,
masked; CSV; incremental pulls with `since`."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime

import pytest

from govshare.exchange import query
from tests.integration.data_exchange_support import (
    BASE,
    CASE,
    SECRET_FAITH,
    app_token,
    grant,
    in_process_settings,
    last_event,
    load,
    market_registration,
    population,
)
from tests.integration.test_data_load import pid

MANY = 12_000


settings = pytest.fixture(in_process_settings)
registered = pytest.fixture(market_registration)
token = pytest.fixture(app_token)


def export(client, token, resource, **params):
    return client.get(f"{BASE}/resources/{resource.code}/export", headers=token | CASE, params=params)


def test_export_streams_every_record_in_chunks_granted_items_only_masked(
    session, client, city, registered, token, monkeypatch
):
    people = population(session, city, count=MANY)
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"], operations=("bulk_export",))
    chunks: list[int] = []
    reads = query.export_chunks

    def counted(*args, **kwargs):
        for chunk in reads(*args, **kwargs):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(query, "EXPORT_CHUNK", 5000)
    monkeypatch.setattr(query, "export_chunks", counted)
    response = export(client, token, people)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert chunks == [5000, 5000, 2000] and len(rows) == MANY
    assert set(rows[0]) == {"values", "version", "updated_at"}
    names = [r["values"]["姓名"] for r in rows]
    assert "张*" in names and "王****" in names and not any("三" in n or "1" in n for n in names)
    assert all(set(r["values"]) == {"公民身份号码", "姓名"} for r in rows)
    assert len({r["values"]["公民身份号码"] for r in rows}) > 1 and pid(1) not in response.text
    assert SECRET_FAITH not in response.text and "1980-01-02" not in response.text
    event = last_event(session)  # one entry per export, naming the items, committed before streaming
    assert (event.operation, event.outcome, event.items) == (
        "bulk_export",
        "allowed",
        ["公民身份号码", "姓名"],
    )


def test_export_as_csv_has_a_header_and_one_line_per_record(session, client, city, registered, token):
    people = population(session, city)
    grant(session, city, registered[0], people, operations=("bulk_export",), unmasked=("姓名",))
    response = export(client, token, people, format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["公民身份号码", "姓名", "出生日期", "version", "updated_at"]
    assert sorted(line[1] for line in lines[1:]) == sorted(["张三", "李四", "王3", "王4"])


def test_export_since_pulls_only_records_updated_after_it(session, client, city, registered, token):
    people = population(session, city)
    grant(session, city, registered[0], people, operations=("bulk_export",), unmasked=("姓名",))
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    load(session, city, people, [2], key="b2", 出生日期="1980-02-03")
    rows = [
        json.loads(line)
        for line in export(client, token, people, since=between.isoformat()).text.splitlines()
    ]
    assert [(r["values"]["姓名"], r["version"]) for r in rows] == [("李四", 2)]


def test_export_needs_the_bulk_export_operation(session, client, city, registered, token):
    people = population(session, city)
    grant(session, city, registered[0], people, operations=("lookup",))
    refused = export(client, token, people)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "operation_not_granted"
    assert "张" not in refused.text
