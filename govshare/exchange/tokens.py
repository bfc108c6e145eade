"""Access tokens (访问令牌): Ed25519-signed JWTs, and the signing keys that rotate under them.

A token is signed by the newest active key and names it in its ``kid`` header. Rotating retires the
previous key instead of deleting it: a retired key still verifies (and stays in the JWKS) for one
token lifetime after its retirement, so every token it signed lives out its ``exp``. Private keys are
stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from GOVSHARE_SECRET_KEY, so a
database dump alone cannot mint tokens.
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from govshare.core.errors import DomainError, Unauthenticated
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.exchange.models import Application, SigningKey

ALGORITHM = "EdDSA"
AUDIENCE = "govshare-exchange"
_RAW = serialization.Encoding.Raw
_KDF_INFO = b"govshare exchange signing key v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _wrapping_key(settings: Settings, info: bytes) -> AESGCM:
    secret = settings.secret_key.get_secret_value().encode()
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret))


def new_sealed_key(settings: Settings, info: bytes = _KDF_INFO) -> tuple[str, str, str]:
    """A new Ed25519 key pair as (kid, public key, sealed private key), both keys base64url.

    ``info`` separates the uses of the secret (token signing, audit checkpoints): a key sealed for one
    use cannot be opened as another's. The audit log seals its checkpoint keys with this too.
    """
    private = Ed25519PrivateKey.generate()
    kid = f"{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
    raw = private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = _wrapping_key(settings, info).encrypt(nonce, raw, kid.encode())  # the kid is bound as AAD
    public = _b64(private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))
    return kid, public, _b64(nonce + sealed)


def open_sealed_key(
    settings: Settings, kid: str, sealed_b64: str, info: bytes = _KDF_INFO
) -> Ed25519PrivateKey:
    """The private key ``new_sealed_key`` sealed; raises InvalidTag under another secret or ``info``."""
    sealed = _unb64(sealed_b64)
    raw = _wrapping_key(settings, info).decrypt(sealed[:12], sealed[12:], kid.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


def create_signing_key(session: Session, settings: Settings) -> SigningKey:
    """A new Ed25519 key pair; the caller commits. The kid tells operators when it was made."""
    kid, public, sealed = new_sealed_key(settings)
    key = SigningKey(kid=kid, public_key=public, private_key_encrypted=sealed)
    session.add(key)
    session.flush()
    return key


def rotate_signing_key(session: Session, settings: Settings) -> SigningKey:
    """Make a new key the signing key and retire the others (they keep verifying for one token
    lifetime). Authorization is the caller's: the exchange service checks the actor."""
    now = utcnow()
    for key in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        key.retired_at = now
    key = create_signing_key(session, settings)
    session.commit()
    return key


def signing_key(session: Session, settings: Settings) -> SigningKey:
    """The newest active key; a fresh platform makes its first key on the first token request."""
    key = session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        .limit(1)
    )
    if key is None:
        key = create_signing_key(session, settings)
        session.commit()
    return key


def _live(settings: Settings) -> ColumnElement[bool]:
    """Keys whose tokens may still be alive: active ones, and those retired less than a token
    lifetime ago."""
    oldest = utcnow() - timedelta(seconds=settings.exchange_token_ttl_seconds)
    return or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > oldest)


def verification_keys(session: Session, settings: Settings) -> list[SigningKey]:
    """The keys that still verify tokens, newest first: what the JWKS publishes."""
    newest_first = (SigningKey.created_at.desc(), SigningKey.id.desc())
    return list(session.scalars(select(SigningKey).where(_live(settings)).order_by(*newest_first)))


def jwks(session: Session, settings: Settings) -> dict[str, list[dict[str, str]]]:
    """The public keys as a JSON Web Key Set (RFC 7517, OKP keys per RFC 8037)."""
    return {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": k.public_key, "kid": k.kid, "use": "sig", "alg": ALGORITHM}
            for k in verification_keys(session, settings)
        ]
    }


class SigningKeyUnreadable(DomainError):
    """The signing key was sealed under another GOVSHARE_SECRET_KEY: an operator must rotate it."""

    status = 503


def _private_key(key: SigningKey, settings: Settings) -> Ed25519PrivateKey:
    try:
        return open_sealed_key(settings, key.kid, key.private_key_encrypted)
    except InvalidTag as err:
        raise SigningKeyUnreadable(
            "signing_key_unreadable",
            f"令牌签名密钥 {key.kid} 无法解密（GOVSHARE_SECRET_KEY 已更改？），"
            "请平台管理员运行 govshare exchange rotate-key",
            {"kid": key.kid},
        ) from err


@lru_cache(maxsize=64)
def _public_key(x: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(x))


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int
    kid: str
    claims: dict[str, Any]


def issue(
    session: Session, settings: Settings, application: Application, now: datetime | None = None
) -> AccessToken:
    """Sign a token for ``application`` (already authenticated by the caller)."""
    key = signing_key(session, settings)
    issued = now or utcnow()
    ttl = settings.exchange_token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.base_url,
        "aud": AUDIENCE,
        "sub": application.client_id,
        "app": application.id,
        "dept": application.department.code,
        "gen": application.token_generation,
        "iat": int(issued.timestamp()),
        "exp": int(issued.timestamp()) + ttl,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, _private_key(key, settings), algorithm=ALGORITHM, headers={"kid": key.kid})
    return AccessToken(token, ttl, key.kid, claims)


def _invalid(reason: str) -> Unauthenticated:
    return Unauthenticated("invalid_token", f"访问令牌无效：{reason}，请重新获取令牌")


def verify(session: Session, settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a token signed by a live key, for this platform, not expired; raises otherwise."""
    return verify_with(
        settings, token, lambda kid: session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    )


class VerificationKey(Protocol):
    """What verification reads of a signing key: a ``SigningKey`` row, or a cached view of one."""

    @property
    def public_key(self) -> str: ...
    @property
    def retired_at(self) -> datetime | None: ...


def verify_with(
    settings: Settings, token: str, key_for: Callable[[str], VerificationKey | None]
) -> dict[str, Any]:
    """:func:`verify`, with the signing key of a kid from ``key_for`` (a query, or the data API's cache)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as err:
        raise _invalid("格式不正确") from err
    key = key_for(str(kid))
    oldest = utcnow() - timedelta(seconds=settings.exchange_token_ttl_seconds)
    if key is None or (key.retired_at is not None and key.retired_at <= oldest):  # the rule of _live
        raise _invalid("签名密钥未知或已停用")
    try:
        return jwt.decode(
            token,
            _public_key(key.public_key),
            algorithms=[ALGORITHM],  # never the header's choice: no "none", no HMAC confusion
            audience=AUDIENCE,
            issuer=settings.base_url,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "jti", "app", "gen"]},
        )
    except jwt.ExpiredSignatureError as err:
        raise Unauthenticated("token_expired", "访问令牌已过期，请重新获取令牌") from err
    except jwt.InvalidSignatureError as err:
        raise _invalid("签名不正确") from err
    except jwt.InvalidTokenError as err:
        raise _invalid(str(err)) from err
