"""Signed subject links: they open only for the subject they were issued for, only until they expire."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from govshare.audit import links
from govshare.catalog.models import SubjectKeyType
from govshare.core.errors import Unauthenticated
from govshare.core.types import utcnow
from tests.conftest import make_test_settings

SETTINGS = make_test_settings()
HASH = "ab" * 32


def test_a_link_opens_for_its_subject_and_carries_no_id_number():
    token, expires = links.issue(SETTINGS, SubjectKeyType.PERSON_ID, HASH, "1101**********002X", 7)
    assert links.open_token(SETTINGS, token) == (SubjectKeyType.PERSON_ID, HASH, "1101**********002X")
    assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert set(payload) == {"t", "h", "m", "exp"}


def test_a_link_pointed_at_another_subject_or_signed_with_another_secret_is_refused():
    token, _ = links.issue(SETTINGS, SubjectKeyType.PERSON_ID, HASH, "1101**********002X", 7)
    payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps(data | {"h": "cd" * 32}).encode()).rstrip(b"=").decode()
    for bad in (f"{forged}.{signature}", payload, f"{payload}.{signature[:-2]}AA"):
        with pytest.raises(Unauthenticated) as err:
            links.open_token(SETTINGS, bad)
        assert err.value.code == "invalid_subject_link"
    other = make_test_settings(secret_key="another-secret-0123456789abcdef0123")
    with pytest.raises(Unauthenticated):
        links.open_token(other, token)


def test_an_expired_link_is_refused(monkeypatch: pytest.MonkeyPatch):
    token, expires = links.issue(SETTINGS, SubjectKeyType.CREDIT_CODE, HASH, "9111**********341L", 1)
    monkeypatch.setattr(links, "utcnow", lambda: expires + timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as err:
        links.open_token(SETTINGS, token)
    assert err.value.code == "subject_link_expired"
