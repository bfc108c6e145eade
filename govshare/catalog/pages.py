"""Catalog pages (资源目录): search, resource detail, versions, the registration form, the negative list.

Thin: each handler parses the request, calls the same service functions as the JSON API, and renders.
Who may do what is decided by the services; the pages only hide buttons a user could not use.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.models import Role, User
from govshare.auth.service import list_departments, require_role
from govshare.catalog import classification, forms, negative, rules, search, service, versions
from govshare.catalog.models import Resource, ResourceStatus
from govshare.core.errors import DomainError, NotFound, ValidationFailed
from govshare.web.deps import CurrentUser, OptionalUser, SessionDep
from govshare.web.i18n import N_, _
from govshare.web.rendering import PageRoute, checked_form, flash, redirect, render, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
CODE = "/catalog/resources/{code:path}"
PAGE_SIZE = 20
REGISTRARS = (Role.AUTHORITY, Role.DATA_OFFICER)
REVIEWERS = (Role.AUTHORITY, Role.AUDITOR)

ACTION_LABELS = {
    "created": N_("Registered"),
    "updated": N_("Changed"),
    "submitted": N_("Submitted for review"),
    "published": N_("Published"),
    "returned": N_("Returned to provider"),
    "retired": N_("Retired"),
    "negative_accepted": N_("Negative-list declaration accepted"),
    "negative_rejected": N_("Negative-list declaration rejected"),
}
REVIEW_LABELS = {
    "pending": N_("Awaiting review"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "superseded": N_("Superseded"),
}


def detail_url(code: str) -> str:
    return f"/catalog/resources/{code}"


def problems_of(exc: DomainError) -> list[dict[str, str]]:
    details = exc.details if isinstance(exc.details, dict) else {}
    if isinstance(details.get("errors"), list):
        return details["errors"]
    return [{"field": str(details.get("field", "")), "code": exc.code, "message": exc.message}]


# --- search ---------------------------------------------------------------------------------------


@router.get("/")
def home() -> Response:
    return redirect("/catalog")


@router.get("/catalog")
def catalog_search(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Search the catalog: Chinese full text plus filters; drafts only for their own department."""
    p = request.query_params
    status = p.get("status", "published") if user is not None else "published"
    provider = p.get("provider") or None
    if status not in ("published", "retired") and user is not None and user.role not in REVIEWERS:
        provider = user.department.code  # others' drafts are not disclosed, so do not count them either
    opened = {"1": True, "0": False}.get(p.get("open", ""))
    filters = search.Filters(
        provider, p.get("classification") or None, p.get("sharing_type") or None,
        p.get("update_cycle") or None, opened, status or None,
    )  # fmt: skip
    page = int(p["page"]) if p.get("page", "").isdigit() and int(p["page"]) > 0 else 1
    result = search.search(session, p.get("q", ""), filters, page, PAGE_SIZE)
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render(
        request, "catalog/search.html", user=user,
        q=p.get("q", ""), filters=filters, status=status, open=p.get("open", ""),
        results=[r for r in result.resources if service.can_view(user, r)],
        total=result.total, page=page, pages=pages,
        departments=list_departments(session), subclasses=classification.all_subclasses(),
    )  # fmt: skip


# --- registration form -----------------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    user: User,
    rf: forms.ResourceForm,
    resource: Resource | None,
    status: int = 200,
) -> Response:
    return render(
        request, "catalog/form.html", user=user, status_code=status, form=rf, resource=resource,
        departments=list_departments(session) if user.role == Role.AUTHORITY else [],
        subclasses=classification.all_subclasses(), labels=forms.FIELD_LABELS, item_labels=forms.ITEM_LABELS,
        name_max=rules.NAME_MAX, summary_max=rules.SUMMARY_MAX, blank_row=forms.empty_item(),
    )  # fmt: skip


def _save(
    request: Request, session: Session, user: User, form: FormData, resource: Resource | None
) -> Response:
    rf = forms.from_post(form)
    if form.get("action") == "add_rows":
        return _form_page(request, session, user, rf.pad(forms.ADD_ROWS), resource)
    data, problems = forms.to_input(rf, with_provider=resource is None and user.role == Role.AUTHORITY)
    try:
        if problems:
            # The form could not be read whole: show those problems and every rule the rest breaks.
            more = rules.check_resource(data).problems if data is not None else []
            raise rules.invalid([rules.Problem(**p) for p in problems] + more)
        assert data is not None
        if resource is None:
            saved = service.create_resource(session, user, data)
            flash(request, _("Registered %(code)s as a draft.") % {"code": saved.code})
        else:
            saved = service.update_resource(session, user, resource.code, data, rf.expected_version)
            flash(
                request,
                _("Saved %(code)s, version %(version)s.") % {"code": saved.code, "version": saved.version},
            )
    except ValidationFailed as exc:
        rf.add_problems(problems_of(exc))
        return _form_page(request, session, user, rf.pad(3), resource, status=422)
    except DomainError as exc:
        rf.general.append(exc.message)
        return _form_page(request, session, user, rf.pad(3), resource, status=exc.status)
    return redirect(detail_url(saved.code))


@router.get("/catalog/new")
def new_resource(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The registration form (登记信息资源)."""
    require_role(user, *REGISTRARS)
    rf = forms.blank_form()
    rf.values["provider_code"] = user.department.code
    return _form_page(request, session, user, rf, None)


@router.post("/catalog/new")
def create_resource(request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    require_role(user, *REGISTRARS)
    return _save(request, session, user, form, None)


@router.get(CODE + "/edit")
def edit_resource(code: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    resource = service.view_resource(session, code, user)
    if not service.can_edit(user, resource.provider_id):
        require_role(user, Role.AUTHORITY)  # raises: explains who may edit
    return _form_page(request, session, user, forms.from_resource(resource).pad(3), resource)


@router.post(CODE + "/edit")
def update_resource(
    code: str, request: Request, session: SessionDep, user: CurrentUser, form: Form
) -> Response:
    return _save(request, session, user, form, service.view_resource(session, code, user))


# --- detail, versions, lifecycle actions -------------------------------------------------------------


@router.get(CODE + "/diff")
def diff(code: str, request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Compare two versions field by field."""
    resource = service.view_resource(session, code, user)
    p = request.query_params
    to_v = int(p["to"]) if p.get("to", "").isdigit() else resource.version
    from_v = int(p["from"]) if p.get("from", "").isdigit() else max(1, to_v - 1)
    changes = service.version_diff(session, resource, from_v, to_v)
    return render(
        request, "catalog/diff.html", user=user, resource=resource, from_v=from_v, to_v=to_v,
        changes=[_describe(f, b, a) for f, b, a in changes],
        item_labels=forms.ITEM_LABELS, field_vocab=forms.FIELD_VOCAB,
    )  # fmt: skip


def _describe(field: str, before: Any, after: Any) -> dict[str, Any]:
    """One diff row: a readable field label; item fields read 信息项“姓名” · 敏感级别."""
    parts = field.split(".")
    if parts[0] == "items":
        item_field = parts[2] if len(parts) > 2 else ""
        label = _("Item “%(name)s”") % {"name": parts[1]}
        if item_field:
            label += " · " + _(forms.ITEM_LABELS.get(item_field, item_field))
        vocab = forms.FIELD_VOCAB.get(item_field)
    else:
        label = _(forms.FIELD_LABELS.get(field, field))
        vocab = forms.FIELD_VOCAB.get(field)
    return {"field": field, "label": label, "vocab": vocab, "before": before, "after": after}


ACTIONS = {
    "submit": (lambda s, u, c, r: service.submit(s, u, c), N_("Submitted %(code)s for review.")),
    "publish": (lambda s, u, c, r: service.publish(s, u, c), N_("Published %(code)s.")),
    "return": (service.return_to_draft, N_("Returned %(code)s to its provider.")),
    "retire": (service.retire, N_("Retired %(code)s.")),
}


@router.post(CODE + "/{action}")
def lifecycle(
    code: str, action: str, request: Request, session: SessionDep, user: CurrentUser, form: Form
) -> Response:
    """提交审核 / 审核发布 / 退回 / 撤销: one POST each; a refused action explains itself on the page."""
    if action not in ACTIONS:
        raise NotFound("not_found", _("Page not found."))
    call, done = ACTIONS[action]
    try:
        resource = call(session, user, code, str(form.get("reason", "")))
        flash(request, _(done) % {"code": resource.code})
    except DomainError as exc:
        for problem in problems_of(exc):
            flash(request, f"{code}：{problem['message']}", "error")
    return redirect(safe_next(str(form.get("next", "")), detail_url(code)))


@router.get(CODE)
def detail(code: str, request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """One resource: national core metadata, items, sharing, negative-list entries, versions."""
    resource = service.view_resource(session, code, user)
    return render(
        request, "catalog/detail.html", user=user, resource=resource,
        versions=versions.list_for(session, resource), entries=negative.entries_for(session, resource),
        can_edit=service.can_edit(user, resource.provider_id), is_authority=user is not None and user.role == Role.AUTHORITY,
        labels=forms.FIELD_LABELS, item_labels=forms.ITEM_LABELS, action_labels=ACTION_LABELS,
        review_labels=REVIEW_LABELS, editable=resource.status in service.EDITABLE,
    )  # fmt: skip


# --- negative list --------------------------------------------------------------------------------


@router.get("/catalog/negative-list")
def negative_list(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """The public negative list (负面清单): what is not shared, and the legal basis for it."""
    return render(request, "catalog/negative_list.html", user=user, entries=negative.public_list(session))


@router.get("/catalog/negative-list/review")
def review(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The authority's queue: pending negative-list declarations and resources awaiting publication."""
    entries = negative.review_queue(session, user)
    submitted = search.search(session, "", search.Filters(status=ResourceStatus.SUBMITTED.value), 1, 100)
    return render(
        request, "catalog/review.html", user=user, entries=entries, submitted=submitted.resources,
        can_decide=user.role == Role.AUTHORITY,
    )  # fmt: skip


@router.post("/catalog/negative-list/{entry_id}/decision")
def decide(entry_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    accept = form.get("decision") == "accept"
    try:
        entry = negative.decide(session, user, entry_id, accept, str(form.get("reason", "")))
        target = entry.item_name or entry.resource.name
        message = (
            _("Accepted: “%(target)s” is on the negative list.")
            if accept
            else _("Rejected: “%(target)s” must be declared shareable again.")
        )
        flash(request, message % {"target": target})
    except DomainError as exc:
        flash(request, exc.message, "error")
    return redirect("/catalog/negative-list/review")
