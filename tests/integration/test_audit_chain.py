"""The audit log's chain and checkpoints: recomputable hashes, signed checkpoints, and every kind of
tampering named at the right seq (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import Text, cast, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from govshare import audit
from govshare.audit import chain as canon
from govshare.audit import service, verify
from govshare.audit.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEvent
from govshare.auth.models import Department
from govshare.core.errors import ValidationFailed
from tests.integration.audit_support import ID_NUMBER, allow_tampering, append, audit_settings, events


def documented_hash(row: AuditEvent) -> str:
    """docs/audit.md's recipe, written out independently of govshare.audit.chain."""
    doc: dict[str, Any] = {"v": 1}
    for name in canon.HASHED_FIELDS:
        value = getattr(row, name)
        if name == "occurred_at":
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif hasattr(value, "value"):
            value = value.value
        doc[name] = value
    text_ = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def test_each_event_is_chained_to_the_previous_and_its_hash_recomputes_from_the_documented_form(
    session: Session,
):
    append(session, audit_settings(), 4)
    rows = events(session)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(documented_hash(r) == r.hash for r in rows)
    assert session.get(AuditChainHead, "main").last_hash == rows[-1].hash  # type: ignore[union-attr]


def test_checkpoints_are_signed_every_n_events_and_verify_with_the_exported_public_key(session: Session):
    append(session, audit_settings(every=5), 11)
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    assert [c.seq for c in checkpoints] == [5, 10]
    (key,) = service.public_keys(session)["keys"]
    public = load_pem_public_key(key["pem"].encode())
    for cp in checkpoints:
        assert cp.hash == session.get(AuditEvent, ("main", cp.seq)).hash  # type: ignore[union-attr]
        message = json.dumps(
            {"v": 1, "type": "govshare-audit-checkpoint", "chain": "main", "seq": cp.seq, "hash": cp.hash,
             "signed_at": cp.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kid": key["kid"]},
            sort_keys=True, separators=(",", ":"),
        ).encode()  # fmt: skip
        public.verify(base64.urlsafe_b64decode(cp.signature + "=="), message)  # type: ignore[union-attr]


def test_a_checkpoint_on_demand_signs_the_current_end(session: Session):
    settings = audit_settings(every=1000)
    append(session, settings, 3)
    cp = service.checkpoint(session, settings)
    assert cp is not None and (cp.seq, cp.hash) == (3, events(session)[-1].hash)
    assert service.checkpoint(session, settings).id == cp.id  # type: ignore[union-attr]


def test_an_untouched_chain_verifies(session: Session):
    append(session, audit_settings(), 12)
    report = verify.verify(session)
    assert report.ok, report.problems
    assert (report.verified_to_seq, report.events_checked, report.checkpoints_checked) == (12, 12, 2)


def _problem(session: Session, from_seq: int = 1) -> tuple[int, str]:
    report = verify.verify(session, from_seq=from_seq)
    assert not report.ok
    first = report.first_problem
    assert first is not None
    return first.seq, first.kind


def test_a_modified_field_is_named_at_its_seq(session: Session):
    append(session, audit_settings(), 8)
    allow_tampering(session)
    session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(operator="李四"))
    assert _problem(session) == (4, "modified")


def test_a_deleted_row_is_named_as_the_gap(session: Session):
    append(session, audit_settings(), 8)
    allow_tampering(session)
    session.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    assert _problem(session) == (3, "deleted")


def test_rows_deleted_from_the_end_are_named(session: Session):
    append(session, audit_settings(every=1000), 8)
    allow_tampering(session)
    session.execute(delete(AuditEvent).where(AuditEvent.seq >= 7))
    assert _problem(session) == (7, "deleted")


def _forged(session: Session, seq: int, prev_hash: str, operator: str = "伪造者") -> dict[str, Any]:
    model = dict(session.execute(select(AuditEvent.__table__).where(AuditEvent.seq == 1)).mappings().one())
    forged = model | {"seq": seq, "prev_hash": prev_hash, "operator": operator}
    forged["hash"] = canon.event_hash(forged)
    return forged


def test_a_forged_row_inserted_in_the_middle_is_named(session: Session):
    append(session, audit_settings(every=1000), 8)
    allow_tampering(session)
    table = AuditEvent.__table__
    later = [dict(r) for r in session.execute(select(table).where(table.c.seq >= 5)).mappings()]
    session.execute(delete(table).where(table.c.seq >= 5))
    session.execute(insert(table), [r | {"seq": r["seq"] + 1} for r in later])  # renumbered, hashes kept
    session.execute(insert(table).values(**_forged(session, 5, later[0]["prev_hash"])))
    assert _problem(session) == (5, "inserted")


def test_a_forged_row_appended_past_the_head_is_named(session: Session):
    append(session, audit_settings(every=1000), 4)
    allow_tampering(session)
    session.execute(insert(AuditEvent.__table__).values(**_forged(session, 5, events(session)[-1].hash)))
    assert _problem(session) == (5, "inserted")


@pytest.mark.parametrize(
    ("written", "seq"), [(8, 4), (5, 5)], ids=["middle", "last, caught by the chain head"]
)
def test_a_row_modified_and_rehashed_is_named_as_replaced(session: Session, written: int, seq: int):
    append(session, audit_settings(every=1000), written)
    allow_tampering(session)
    row = dict(session.execute(select(AuditEvent.__table__).where(AuditEvent.seq == seq)).mappings().one())
    row["operator"] = "李四"
    session.execute(
        update(AuditEvent).where(AuditEvent.seq == seq).values(operator="李四", hash=canon.event_hash(row))
    )
    assert _problem(session) == (seq, "replaced")


def test_a_chain_rewritten_consistently_is_caught_by_the_signed_checkpoint(session: Session):
    append(session, audit_settings(every=5), 7)
    allow_tampering(session)
    table = AuditEvent.__table__
    prev = events(session)[1].hash
    for row in session.execute(select(table).where(table.c.seq >= 3).order_by(table.c.seq)).mappings().all():
        new = dict(row) | {"prev_hash": prev, "operator": "李四" if row["seq"] == 3 else row["operator"]}
        new["hash"] = prev = canon.event_hash(new)
        session.execute(update(table).where(table.c.seq == row["seq"]).values(**new))
    session.execute(update(AuditChainHead).values(last_hash=prev))
    report = verify.verify(session)
    assert [(p.seq, p.kind) for p in report.problems] == [(5, "checkpoint_mismatch")]


def test_a_changed_checkpoint_signature_is_named(session: Session):
    append(session, audit_settings(every=5), 10)
    allow_tampering(session)
    cp = session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.seq == 5))
    assert cp is not None
    flipped = ("A" if cp.signature[0] != "A" else "B") + cp.signature[1:]
    session.execute(update(AuditCheckpoint).where(AuditCheckpoint.id == cp.id).values(signature=flipped))
    session.expire_all()
    assert _problem(session) == (5, "bad_signature")


def test_verify_from_a_seq_checks_only_from_there(session: Session):
    append(session, audit_settings(every=1000), 8)
    allow_tampering(session)
    session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(operator="李四"))
    assert verify.verify(session, from_seq=4).ok
    assert _problem(session, from_seq=2) == (2, "modified")


def test_progress_is_reported_while_walking(session: Session):
    append(session, audit_settings(every=1000), 3)
    seen: list[tuple[int, int]] = []
    verify.verify(session, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)


def test_the_subject_is_stored_only_as_a_keyed_hash(session: Session):
    settings = audit_settings()
    key_hash = audit.subject_hash(settings.secret_key.get_secret_value(), "person_id", ID_NUMBER)
    append(session, settings, 2, subject_key_type="person_id", subject_key_hash=key_hash)
    dump = " ".join(str(v) for row in session.execute(text("SELECT * FROM audit_event")) for v in row)
    assert key_hash in dump
    assert ID_NUMBER not in dump and ID_NUMBER.lower() not in dump and ID_NUMBER[:-1] not in dump
    assert key_hash != audit.subject_hash("another-secret-0123456789abcdef012", "person_id", ID_NUMBER)


def test_a_raw_id_number_is_refused_as_the_subject(session: Session):
    with pytest.raises(ValidationFailed):
        append(session, audit_settings(), 1, subject_key_type="person_id", subject_key_hash=ID_NUMBER)
    with pytest.raises(ValidationFailed):  # a refusal without its reason
        append(session, audit_settings(), 1, outcome="refused")
    with pytest.raises(ValidationFailed):  # an unknown subject type, which the log could not read back
        append(session, audit_settings(), 1, subject_key_type="passport", subject_key_hash="ab" * 32)


def test_an_allowed_read_and_its_entry_commit_or_roll_back_together(session: Session):
    settings = audit_settings()
    append(session, settings, 1)
    audit.record(
        session, audit.AuditEntry(operation="lookup", actor_kind="application", application_id=1), settings
    )
    session.rollback()
    assert [e.seq for e in events(session)] == [1]
    assert service.head(session)[0] == 1


def test_a_refusal_is_recorded_although_the_request_is_rolled_back(session: Session):
    settings = audit_settings()
    session.add(Department(code="X" * 18, name="请求中途写入的部门", level="city", division_code="440300"))
    session.flush()
    entry = audit.AuditEntry(operation="lookup", actor_kind="application", application_id=1,
                             outcome="refused", refusal_code="no_grant")  # fmt: skip
    seq = audit.record_refusal(session, entry, settings)
    session.rollback()
    assert [(e.seq, e.outcome.value, e.refusal_code) for e in events(session)] == [
        (seq, "refused", "no_grant")
    ]
    assert session.scalar(select(Department).where(Department.code == "X" * 18)) is None


def test_rows_written_past_a_deleted_chain_head_are_reported_once(session: Session):
    append(session, audit_settings(every=1000), 4)
    session.execute(delete(AuditChainHead))
    report = verify.verify(session)
    assert [(p.seq, p.kind) for p in report.problems] == [(1, "inserted")]
    assert "链头记录缺失" in report.problems[0].detail


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_change_or_remove_log_rows(session: Session, change: str):
    append(session, audit_settings(every=1), 2)
    for model in (AuditEvent, AuditCheckpoint):
        statement = update(model).values(hash="0" * 64) if change == "update" else delete(model)
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(statement)
    assert verify.verify(session).ok


def test_a_batch_written_through_the_driver_reads_back_as_the_orm_would_store_it(session: Session):
    """audit.rows writes the columns itself: every column of the table, the times and item lists read
    back through the ORM unchanged, and the documented hash recomputes from what was stored."""
    from govshare.audit import rows

    assert set(rows.COLUMNS) == {c.name for c in AuditEvent.__table__.columns}
    entries = [
        service.system_entry("lookup", operator=f"窗口{n}", items=("姓名", 'quote"back\\slash'), latency_ms=n)
        for n in range(3)
    ]
    seqs = service.record_many(session, entries, audit_settings())
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    stored = list(
        session.scalars(select(AuditEvent).where(AuditEvent.seq.in_(seqs)).order_by(AuditEvent.seq))
    )
    assert [e.items for e in stored] == [["姓名", 'quote"back\\slash']] * 3
    assert [e.operator for e in stored] == ["窗口0", "窗口1", "窗口2"]
    assert all(e.occurred_at.tzinfo is not None for e in stored)
    assert [documented_hash(e) for e in stored] == [e.hash for e in stored]
    assert stored[1].prev_hash == stored[0].hash and stored[2].prev_hash == stored[1].hash
    assert session.get(AuditChainHead, stored[0].chain).last_hash == stored[2].hash
    texts = session.execute(
        select(cast(AuditEvent.items, Text)).where(AuditEvent.seq.in_(seqs)).order_by(AuditEvent.seq)
    ).scalars()
    assert list(texts) == [json.dumps(["姓名", 'quote"back\\slash'])] * 3  # the ORM's very text
    assert [e.application_id for e in stored] == [None] * 3 and [e.latency_ms for e in stored] == [0, 1, 2]
