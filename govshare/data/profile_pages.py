"""Subject profile pages (主体画像): look a subject up, read its merged profile, list data-quality conflicts.

Thin, like the API (profiles_api.py): the same ``profiles.read_profile`` (access rule and read log) and
``profiles.list_conflicts``. The look-up form checks ID numbers and credit codes first, so a typo is
explained next to the field instead of answering "not found".
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from govshare.auth.models import User
from govshare.catalog.models import SubjectKeyType
from govshare.core import ids
from govshare.core.errors import DomainError, NotFound, ValidationFailed
from govshare.data import profiles
from govshare.data.profile_models import ConflictStatus
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep
from govshare.web.rendering import PageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
KINDS = [k.value for k in SubjectKeyType if k != SubjectKeyType.NONE]
VALIDATORS = {
    SubjectKeyType.PERSON_ID: ids.validate_resident_id,
    SubjectKeyType.CREDIT_CODE: ids.validate_credit_code,
}


def profile_url(kind: str, key: str) -> str:
    return f"/data/profiles/{kind}/{quote(key, safe='')}"


def checked_subject(kind: str, key: str) -> tuple[str, str, dict[str, str]]:
    """The subject type and normalised key, or the errors to show next to each field."""
    errors: dict[str, str] = {}
    try:
        subject = profiles.subject_key_type_of(kind)
    except ValidationFailed as exc:
        return kind, key, {"type": exc.message}
    key = profiles.normalize_subject_key(subject, key)
    validate = VALIDATORS.get(subject)
    if not key:
        errors["key"] = ""  # the form says "enter the identifier" in the page's language
    elif validate is not None:
        try:
            validate(key)
        except ids.IdCheckError as err:
            errors["key"] = err.message
    return subject.value, key, errors


def _form(request: Request, session: SessionDep, user: User, values: dict[str, str], errors: dict[str, str],
          status: int = 200) -> Response:  # fmt: skip
    conflicts = profiles.list_conflicts(session, user, ConflictStatus.OPEN.value)  # also the access check
    return render(
        request, "data/profiles.html", user=user, kinds=KINDS, values=values, errors=errors,
        conflicts=conflicts[:10], conflict_count=len(conflicts), status_code=status,
    )  # fmt: skip


@router.get("/data/profiles")
def profile_form(
    request: Request, session: SessionDep, user: CurrentUser, type: str = "", key: str = ""
) -> Response:
    """The look-up form (主体画像); with ``type`` and ``key`` filled in it opens that subject's profile."""
    values = {"type": type or SubjectKeyType.PERSON_ID.value, "key": key}
    if not (type or key):
        return _form(request, session, user, values, {})
    kind, normalised, errors = checked_subject(type, key)
    if errors:
        return _form(request, session, user, values, errors, 422)
    return redirect(profile_url(kind, normalised))


@router.get("/data/profiles/{kind}/{key:path}")
def profile_page(
    kind: str, key: str, request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    """A subject's profile: every field with its value, source resource, providing department and last
    update; equivalent items that disagree are shown side by side and marked 冲突. The read is logged."""
    values = {"type": kind, "key": key}
    kind, key, errors = checked_subject(kind, key)
    if errors:
        return _form(request, session, user, values, errors, 422)
    secret = settings.secret_key.get_secret_value()
    try:
        result = profiles.read_profile(session, user, kind, key, secret_key=secret)
    except NotFound as exc:
        return _form(request, session, user, values, {"key": exc.message}, 404)
    return render(request, "data/profile.html", user=user, profile=result, kinds=KINDS,
                  conflicts=sum(f.conflict for f in result.fields))  # fmt: skip


@router.get("/data/conflicts")
def conflict_list(request: Request, session: SessionDep, user: CurrentUser, status: str = "open") -> Response:
    """Data-quality conflicts (数据质量冲突) that involve my department's resources (all, for the authority)."""
    try:
        found = profiles.list_conflicts(session, user, status if status != "all" else None)
    except DomainError as exc:
        if exc.code != "invalid_status":
            raise
        status, found = "open", profiles.list_conflicts(session, user, "open")
    return render(request, "data/conflicts.html", user=user, conflicts=found, status=status)
