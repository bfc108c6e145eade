"""Shared-data use cases: load a batch into a resource, read records, their history and provenance."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.catalog import service as catalog
from govshare.catalog.models import Resource, ResourceStatus
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from govshare.data.ingest import KEY_SEPARATOR, REPORT_SAMPLE, BatchWriter, LoadReport, Row, apply_rows
from govshare.data.models import Batch, BatchStatus, LoadMode, Record, RecordHistory, Rejection
from govshare.data.normalize import compile_row_normaliser
from govshare.data.readers import Source, open_source


def content_key(path: Path, mode: LoadMode | str) -> str:
    """A batch id derived from the file's bytes and the mode: the same file loaded twice is one batch."""
    digest = hashlib.sha256(f"{LoadMode(mode).value}\n".encode())
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return "sha256:" + digest.hexdigest()[:40]


def rows_key(rows: list[dict[str, Any]], mode: LoadMode | str) -> str:
    payload = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(f"{LoadMode(mode).value}\n".encode() + payload).hexdigest()[:40]


def loadable_resource(session: Session, actor: User, code: str) -> Resource:
    """The resource ``actor`` may publish data into: published, and provided by the actor's department."""
    resource = catalog.get_resource(session, code)
    if not catalog.can_edit(actor, resource.provider_id):
        raise PermissionDenied(
            "not_provider", f"只有提供方部门（{resource.provider.name}）的数据管理员可以发布该资源的数据"
        )
    if resource.status != ResourceStatus.PUBLISHED:
        raise Conflict("resource_not_published", f"资源 {resource.code} 尚未发布，不能加载数据")
    if not any(i.is_key for i in resource.items):
        raise Conflict("resource_without_key", f"资源 {resource.code} 未指定主键信息项，不能按记录管理数据")
    return resource


def column_mapping(
    resource: Resource, columns: list[str], mapping: dict[str, str] | None, mode: LoadMode
) -> dict[str, str]:
    """Source column → item name. Columns match item names unless ``mapping`` says otherwise."""
    mapping = mapping or {}
    names = {i.name for i in resource.items}
    result: dict[str, str] = {}
    unknown = []
    for column in columns:
        target = mapping.get(column, column.strip())
        if target in names:
            result[column] = target
        elif target not in ("", "-"):  # "-" in a mapping means: ignore this column
            unknown.append(column)
    if unknown:
        raise ValidationFailed(
            "unknown_columns",
            f"以下列不是该资源的信息项：{'、'.join(unknown)}（请改用信息项名称作表头，或指定列映射：命令行 --map 列名=信息项，接口 mapping）",
            {"columns": unknown, "items": sorted(names)},
        )
    keys = [i.name for i in resource.items if i.is_key]
    missing = [k for k in keys if k not in result.values()]
    if missing:
        raise ValidationFailed(
            "missing_key_column", f"缺少主键列：{'、'.join(missing)}", {"missing": missing}
        )
    if mode != LoadMode.DELETE:
        required = [i.name for i in resource.items if i.required and i.name not in result.values()]
        if required:
            raise ValidationFailed(
                "missing_required_columns", f"缺少必填列：{'、'.join(required)}", {"missing": required}
            )
    return result


def load(
    session: Session,
    actor: User,
    resource_code: str,
    columns: list[str],
    rows: Iterable[tuple[int, Row]],
    *,
    batch_key: str,
    mode: LoadMode | str = LoadMode.UPSERT,
    strict: bool = False,
    source_name: str = "",
    mapping: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load one batch (数据加载). Idempotent on ``batch_key``; atomic; ``strict`` stores nothing on any error."""
    try:
        mode = LoadMode(mode)
    except ValueError as err:
        raise ValidationFailed("invalid_mode", "加载模式须为 upsert / replace / delete") from err
    resource = loadable_resource(session, actor, resource_code)
    previous = session.scalar(
        select(Batch).where(Batch.resource_id == resource.id, Batch.batch_key == batch_key)
    )
    if previous is not None and previous.status == BatchStatus.APPLIED:
        return report_for(session, previous, already_applied=True)
    if previous is not None:  # an earlier strict attempt that stored nothing: try again
        session.delete(previous)
        session.flush()
    renames = column_mapping(resource, columns, mapping, mode)
    if len(renames) != len(columns) or any(column != item for column, item in renames.items()):
        rows = _renamed(rows, renames)
    items = [i for i in resource.items if i.name in renames.values()]
    batch = Batch(
        resource_id=resource.id, batch_key=batch_key, mode=mode, strict=strict, status=BatchStatus.APPLIED,
        source_name=source_name[:255], department_id=resource.provider_id, loaded_by_id=actor.id,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    key_items = [i.name for i in resource.items if i.is_key]
    writer = BatchWriter(session, batch, key_items, [i.name for i in items])
    if isinstance(rows, Source):  # a file: a malformed line is one rejected row, not the end of the load
        rows = rows.rows(on_error=writer.unreadable_row)
    try:
        apply_rows(
            writer,
            rows,
            compile_row_normaliser(items, str(resource.subject_key_type)),
            mode,
            strict,
            progress,
        )
    except BaseException:
        with contextlib.suppress(Exception):  # the connection goes back to the pool: give back the cache
            writer.release()
        raise
    if strict and batch.rejected:
        return _store_refusal(session, resource, batch, writer)
    batch.finished_at = utcnow()
    writer.finish()
    session.commit()
    return report_for(session, batch)


def _renamed(rows: Iterable[tuple[int, Row]], renames: dict[str, str]) -> Iterable[tuple[int, Row]]:
    for number, raw in rows:
        yield number, {renames[c]: v for c, v in raw.items() if c in renames}


def _store_refusal(session: Session, resource: Resource, batch: Batch, writer: BatchWriter) -> LoadReport:
    """Strict mode found problems: undo every change, keep only the batch's report."""
    counts = {k: getattr(batch, k) for k in ("rows_read", "rejected", "duplicate_keys")}
    fields = {
        k: getattr(batch, k)
        for k in ("batch_key", "mode", "strict", "source_name", "department_id", "loaded_by_id")
    }
    writer.release()
    session.rollback()
    refused = Batch(
        resource_id=resource.id, status=BatchStatus.REJECTED, finished_at=utcnow(), **fields, **counts
    )
    session.add(refused)
    session.flush()
    writer.batch = refused
    writer.store_rejections()
    session.commit()
    return report_for(session, refused)


def report_for(session: Session, batch: Batch, already_applied: bool = False) -> LoadReport:
    sample = session.scalars(
        select(Rejection).where(Rejection.batch_id == batch.id).order_by(Rejection.id).limit(REPORT_SAMPLE)
    )
    return LoadReport(
        batch_id=batch.id, batch_key=batch.batch_key, status=batch.status.value, mode=batch.mode.value,
        rows_read=batch.rows_read, inserted=batch.inserted, updated=batch.updated, unchanged=batch.unchanged,
        deleted=batch.deleted, rejected=batch.rejected, duplicate_keys=batch.duplicate_keys,
        already_applied=already_applied,
        rejections=[{"row": r.row_number, "column": r.column, "code": r.code, "message": r.message} for r in sample],
    )  # fmt: skip


def rejections(session: Session, batch_id: int) -> Iterable[Rejection]:
    """Every rejected value of a batch, in file order (for the downloadable report)."""
    return session.scalars(
        select(Rejection).where(Rejection.batch_id == batch_id).order_by(Rejection.row_number, Rejection.id)
    )


def key_of(resource: Resource, values: dict[str, str]) -> str:
    keys = [i.name for i in resource.items if i.is_key]
    return KEY_SEPARATOR.join(values[k] for k in keys)


def get_record(session: Session, resource: Resource, key: str) -> Record:
    record = session.scalar(select(Record).where(Record.resource_id == resource.id, Record.record_key == key))
    if record is None:
        raise NotFound("record_not_found", f"资源 {resource.code} 中没有主键为 {key} 的记录")
    return record


def record_as_of(session: Session, resource: Resource, key: str, moment: datetime) -> dict[str, Any] | None:
    """What the record said at ``moment`` (None if it did not exist then)."""
    current = session.scalar(
        select(Record).where(Record.resource_id == resource.id, Record.record_key == key)
    )
    if current is not None and current.valid_from <= moment:
        return {"version": current.version, "data": json.loads(current.data), "batch_id": current.batch_id}
    old = session.scalar(
        select(RecordHistory)
        .where(
            RecordHistory.resource_id == resource.id,
            RecordHistory.record_key == key,
            RecordHistory.valid_from <= moment,
            RecordHistory.valid_to > moment,
        )
        .order_by(RecordHistory.version.desc())
        .limit(1)
    )
    if old is None:
        return None
    return {"version": old.version, "data": json.loads(old.data), "batch_id": old.batch_id}


def as_dict(report: LoadReport) -> dict[str, Any]:
    return asdict(report)


def load_upload(
    session: Session,
    user: User,
    code: str,
    filename: str,
    stream: IO[bytes],
    *,
    mode: str = "upsert",
    strict: bool = False,
    encoding: str = "",
    format: str = "",
    batch_id: str = "",
    mapping: dict[str, str] | None = None,
) -> LoadReport:
    """Load an uploaded file: spooled to disk once (the batch id hashes it), then streamed in."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename or "upload").name
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        key = batch_id or content_key(path, mode)
        with open_source(path, format=format or None, encoding=encoding or None) as source:
            return load(
                session, user, code, source.columns, source, batch_key=key, mode=mode, strict=strict,
                source_name=path.name, mapping=mapping,
            )  # fmt: skip
