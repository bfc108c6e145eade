"""Signed, expiring links to a subject's access log (数据使用记录链接).

Until citizens sign in themselves, a clerk or the authority hands a citizen a link (a QR code, an SMS)
that opens their access log for a few days without an account. The link names the subject only by the
same keyed hash the log stores (and a masked key to show), expires, and is signed with HMAC-SHA256
under GOVSHARE_SECRET_KEY, so it can be neither forged nor pointed at someone else::

    token = base64url(JSON {"t": key type, "h": key hash, "m": masked key, "exp": unix time}) "." base64url(HMAC)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from govshare.audit.chain import canonical_json
from govshare.catalog.models import SubjectKeyType
from govshare.core.errors import Unauthenticated
from govshare.core.settings import Settings
from govshare.core.types import utcnow

PATH = "/audit/subject/"
_DOMAIN = b"govshare audit subject link v1|"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signature(settings: Settings, payload: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    return _b64(hmac.new(secret, _DOMAIN + payload.encode(), hashlib.sha256).digest())


def issue(
    settings: Settings, kind: SubjectKeyType, key_hash: str, masked: str, days: int
) -> tuple[str, datetime]:
    """A token valid for ``days`` days, and when it expires."""
    expires = (utcnow() + timedelta(days=days)).replace(microsecond=0)
    payload = _b64(
        canonical_json({"t": kind.value, "h": key_hash, "m": masked, "exp": int(expires.timestamp())})
    )
    return f"{payload}.{_signature(settings, payload)}", expires


def open_token(settings: Settings, token: str) -> tuple[SubjectKeyType, str, str]:
    """(key type, key hash, masked key) of a genuine, unexpired token; Unauthenticated otherwise."""
    payload, _, signature = token.partition(".")
    if not signature or not hmac.compare_digest(signature, _signature(settings, payload)):
        raise Unauthenticated("invalid_subject_link", "链接无效，请到办事窗口重新开具")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if datetime.fromtimestamp(int(data["exp"]), UTC) < utcnow():
        raise Unauthenticated("subject_link_expired", "链接已过期，请到办事窗口重新开具")
    return SubjectKeyType(data["t"]), str(data["h"]), str(data["m"])
