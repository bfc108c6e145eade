"""Appending to the audit log (调用日志) and signing its checkpoints.

``record`` appends in the caller's transaction, so an allowed read and its entry commit together (or
not at all). A refused call must be recorded although the request fails: ``record_refusal`` rolls the
request's work back, records, and commits.

Appends are serialised on the chain head row. The first statement of an append is an UPDATE of that
row (``last_seq = last_seq + 1 … RETURNING``): PostgreSQL holds the row lock until the transaction
ends, so a concurrent append waits and then reads the new head; SQLite takes its single writer lock
at that same first write, so it cannot read a stale head either. Either way no two events get the same
seq or the same prev_hash: the chain never forks, and seq stays gap-free because a rolled-back append
rolls the head back too.

Cost of an append (no benchmark; a count of the work): three single-row statements — the head UPDATE,
the event INSERT (primary key plus five indexes), the head hash UPDATE — and one SHA-256 over about
500 bytes of JSON (microseconds). Every N-th append also signs a checkpoint (one Ed25519 signature,
tens of microseconds, plus one INSERT). The head row lock is held until the caller commits, so
appends to one chain are as serial as their transactions: keep the work after ``record`` short.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.audit import chain as canon
from govshare.audit import rows as audit_rows
from govshare.audit.chain import AuditEntry
from govshare.audit.models import (
    GENESIS_HASH,
    MAIN_CHAIN,
    ActorKind,
    AuditChainHead,
    AuditCheckpoint,
    AuditOperation,
    AuditSigningKey,
    Outcome,
)
from govshare.auth.models import User
from govshare.catalog.models import SubjectKeyType
from govshare.core.errors import DomainError, ValidationFailed
from govshare.core.settings import Settings, get_settings
from govshare.core.types import utcnow
from govshare.exchange import tokens

log = logging.getLogger(__name__)
_KEY_INFO = b"govshare audit checkpoint key v1"  # HKDF info: audit keys never open as token keys
_ENTRY_FIELDS = [n for n in canon.HASHED_FIELDS if n not in ("chain", "seq", "prev_hash", "occurred_at")]
_LIMITS = {"operator": 100, "case_id": 64, "service_item": 64, "purpose": 200, "request_id": 64,
           "client_address": 64, "resource_code": 64, "refusal_code": 64}  # fmt: skip


def subject_hash(secret_key: str, kind: SubjectKeyType | str, key: str) -> str:
    """The keyed hash (HMAC-SHA256 under GOVSHARE_SECRET_KEY) of a subject's normalised key: what the
    log stores and searches by, so it never holds an ID number in clear. The same function as the
    profile read log's, so both find the same subject."""
    from govshare.data.profiles import subject_key_hash  # here, not at import: profiles records to us

    return subject_key_hash(secret_key, kind, key)


def user_entry(user: User, operation: AuditOperation | str, **fields: Any) -> AuditEntry:
    """An entry for something a signed-in user did (page, API with a user token, CLI ``--as``)."""
    fields.setdefault("operator", user.username)
    return AuditEntry(operation=str(operation), actor_kind=ActorKind.USER, user_id=user.id,
                      department_id=user.department_id, **fields)  # fmt: skip


def system_entry(operation: AuditOperation | str, **fields: Any) -> AuditEntry:
    """An entry for something the platform did itself, or someone did without an account (a signed link)."""
    return AuditEntry(operation=str(operation), actor_kind=ActorKind.SYSTEM, **fields)


def _checked(entry: AuditEntry) -> AuditEntry:
    """Refuse what must never be stored; cut over-long header values rather than lose the entry."""
    try:
        AuditOperation(entry.operation), ActorKind(entry.actor_kind), Outcome(entry.outcome)
        if entry.subject_key_type is not None:
            SubjectKeyType(entry.subject_key_type)
    except ValueError as err:
        raise ValidationFailed("invalid_audit_entry", f"调用日志条目无效：{err}") from err
    if entry.outcome == Outcome.REFUSED and not entry.refusal_code:
        raise ValidationFailed("invalid_audit_entry", "拒绝的调用须记录拒绝代码")
    if entry.subject_key_hash is not None and (
        not canon.is_key_hash(entry.subject_key_hash) or entry.subject_key_type is None
    ):
        # A raw ID number here would be kept in clear for ever, in a table nobody may change: refuse.
        raise ValidationFailed(
            "invalid_audit_entry", "主体标识须为 audit.subject_hash 的结果，并注明主体类型"
        )
    cut: dict[str, Any] = {
        k: v[:n] for k, n in _LIMITS.items() if isinstance(v := getattr(entry, k), str) and len(v) > n
    }
    return replace(entry, **cut) if cut else entry


def _advance_head(session: Session, chain: str, count: int = 1) -> tuple[int, str]:
    """Take the next ``count`` seqs under the head row's lock; returns (the first, its prev_hash)."""
    bump = (
        update(AuditChainHead)
        .where(AuditChainHead.chain == chain)
        .values(last_seq=AuditChainHead.last_seq + count)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(bump).one_or_none()
    if row is None:  # the chain's first event ever: create its head (a racing first append may win)
        try:
            with session.begin_nested():
                session.execute(
                    insert(AuditChainHead).values(chain=chain, last_seq=0, last_hash=GENESIS_HASH)
                )
        except IntegrityError:
            pass
        row = session.execute(bump).one()
    return int(row.last_seq) - count + 1, str(row.last_hash)


def record(
    session: Session, entry: AuditEntry, settings: Settings | None = None, *, chain: str = MAIN_CHAIN
) -> int:
    """Append ``entry`` to the log in the caller's transaction (the caller commits); returns its seq.

    Every ``audit_checkpoint_every``-th event also gets a signed checkpoint. ``settings`` default to the
    process settings; pass the app's when you hold them.
    """
    return record_many(session, [entry], settings, chain=chain)[0]


def record_many(
    session: Session, entries: Sequence[AuditEntry], settings: Settings | None = None, *,
    chain: str = MAIN_CHAIN, prechecked: bool = False,
) -> list[int]:  # fmt: skip
    """Append ``entries`` in this order, in the caller's transaction, with one head update for all of
    them (the group commit of ``govshare.audit.group_commit``); returns their seqs. ``prechecked``:
    every entry already came from :func:`checked`."""
    settings = settings or get_settings()
    checked = list(entries) if prechecked else [_checked(entry) for entry in entries]
    head = audit_rows.advance_head(session, chain, len(checked))
    first, prev_hash = head if head is not None else _advance_head(session, chain, len(checked))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for seq, entry in enumerate(checked, start=first):
        values: dict[str, Any] = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
        values.update(chain=chain, seq=seq, prev_hash=prev_hash, occurred_at=entry.occurred_at or now,
                      items=list(entry.items))  # fmt: skip
        values["hash"] = prev_hash = canon.event_hash(values)
        rows.append(values)
    audit_rows.insert_events(session, rows, prev_hash)
    for values in rows:
        if values["seq"] % settings.audit_checkpoint_every == 0:
            try:
                _sign(session, settings, chain, values["seq"], values["hash"])
            except (DomainError, IntegrityError):  # never fail the audited call over a checkpoint
                log.exception("audit checkpoint at seq %s not signed", values["seq"])
    return [values["seq"] for values in rows]


def checked(entry: AuditEntry) -> AuditEntry:
    """``entry`` as it would be stored, or ValidationFailed: lets a caller that queues entries refuse a
    bad one at once instead of failing a whole group commit later."""
    return _checked(entry)


def record_refusal(
    session: Session, entry: AuditEntry, settings: Settings | None = None, *, chain: str = MAIN_CHAIN
) -> int:
    """Record a refused call in a transaction of its own: the request's work is rolled back first, then
    the entry is appended and committed, before the error response goes out."""
    session.rollback()
    seq = record(session, entry, settings, chain=chain)
    session.commit()
    return seq


# --- checkpoints ----------------------------------------------------------------------------------


class AuditKeyUnreadable(DomainError):
    status = 503


def signing_key(session: Session, settings: Settings) -> AuditSigningKey:
    """The newest active checkpoint key; the first checkpoint makes one."""
    key = session.scalar(
        select(AuditSigningKey)
        .where(AuditSigningKey.retired_at.is_(None))
        .order_by(AuditSigningKey.created_at.desc())
        .limit(1)
    )
    if key is None:
        kid, public, sealed = tokens.new_sealed_key(settings, _KEY_INFO)
        key = AuditSigningKey(kid=kid, public_key=public, private_key_encrypted=sealed, created_at=utcnow())
        session.add(key)
        session.flush()
    return key


def rotate_key(session: Session, settings: Settings) -> AuditSigningKey:
    """Retire the active key (it keeps verifying its checkpoints for ever) and make a new one."""
    session.execute(
        update(AuditSigningKey).where(AuditSigningKey.retired_at.is_(None)).values(retired_at=utcnow())
    )
    key = signing_key(session, settings)
    session.commit()
    return key


def _sign(session: Session, settings: Settings, chain: str, seq: int, hash_: str) -> AuditCheckpoint:
    key = signing_key(session, settings)
    try:
        private = tokens.open_sealed_key(settings, key.kid, key.private_key_encrypted, _KEY_INFO)
    except InvalidTag as err:
        raise AuditKeyUnreadable(
            "audit_key_unreadable",
            f"检查点签名密钥 {key.kid} 无法解密（GOVSHARE_SECRET_KEY 已更改？），请运行 govshare audit rotate-key",
        ) from err
    signed_at = utcnow()
    signature = private.sign(canon.checkpoint_message(chain, seq, hash_, signed_at, key.kid))
    checkpoint = AuditCheckpoint(chain=chain, seq=seq, hash=hash_, signed_at=signed_at, kid=key.kid,
                                 signature=tokens._b64(signature))  # fmt: skip
    with session.begin_nested():
        session.add(checkpoint)
    return checkpoint


def checkpoint(session: Session, settings: Settings, *, chain: str = MAIN_CHAIN) -> AuditCheckpoint | None:
    """Sign a checkpoint at the chain's current end now (``govshare audit checkpoint``) and commit; the
    existing one when the end is already signed; None for an empty chain."""
    head = session.scalar(select(AuditChainHead).where(AuditChainHead.chain == chain).with_for_update())
    if head is None or head.last_seq == 0:
        return None
    existing = session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.chain == chain, AuditCheckpoint.seq == head.last_seq)
    )
    result = existing or _sign(session, settings, chain, head.last_seq, head.last_hash)
    session.commit()
    return result


def verify_signature(public_key_b64: str, cp: AuditCheckpoint) -> bool:
    public = Ed25519PublicKey.from_public_bytes(tokens._unb64(public_key_b64))
    try:
        public.verify(tokens._unb64(cp.signature), canon.checkpoint_message(cp.chain, cp.seq, cp.hash,
                                                                            cp.signed_at, cp.kid))  # fmt: skip
    except Exception:  # InvalidSignature, or a signature of the wrong length
        return False
    return True


def public_keys(session: Session) -> dict[str, Any]:
    """Every checkpoint key ever used, as a JWK set (RFC 8037) with a PEM of each for openssl."""
    keys = []
    for key in session.scalars(select(AuditSigningKey).order_by(AuditSigningKey.created_at)):
        public = Ed25519PublicKey.from_public_bytes(tokens._unb64(key.public_key))
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        keys.append({"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.kid, "use": "sig",
                     "alg": "EdDSA", "created_at": canon.timestamp(key.created_at),
                     "retired_at": canon.timestamp(key.retired_at) if key.retired_at else None,
                     "pem": pem.decode()})  # fmt: skip
    return {"keys": keys}


def last_checkpoint(session: Session, chain: str = MAIN_CHAIN) -> AuditCheckpoint | None:
    return session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == chain)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    )


def head(session: Session, chain: str = MAIN_CHAIN) -> tuple[int, str]:
    row = session.get(AuditChainHead, chain)
    return (row.last_seq, row.last_hash) if row else (0, GENESIS_HASH)
