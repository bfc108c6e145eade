"""The registration form (信息资源登记表) as HTML sees it: parse a POST, fill from a resource, place errors.

The form keeps what the user typed as strings, so a rejected submission comes back exactly as sent;
only ``to_input`` turns it into the ``ResourceIn`` that the service checks. Item rows are named
``items-<n>-<field>``; ``n`` need not be contiguous (the browser adds and removes rows), and blank
rows are dropped, so the service's ``items[k]`` (1-based) is the k-th row shown after a re-render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from govshare.catalog.models import Resource
from govshare.catalog.schemas import ResourceIn
from govshare.web.i18n import N_, _

BLANK_ROWS = 8  # empty item rows of a new form (without JavaScript, "add rows" adds more)
ADD_ROWS = 5
TEXT_FIELDS = (
    "classification_code", "name", "summary", "provider_code", "format", "sharing_type", "sharing_condition",
    "legal_basis", "open_condition", "update_cycle", "publish_date", "related_codes", "subject_key_type",
    "contact_name", "contact_phone", "contact_email",
)  # fmt: skip
ITEM_TEXT = ("name", "data_type", "length", "sensitivity", "masking_rule", "legal_basis", "description")
ITEM_FLAGS = ("is_key", "required", "is_basic", "searchable", "shareable")
_ITEM_KEY = re.compile(r"^items-(\d+)-(\w+)$")
_SPLIT = re.compile(r"[\s,，;；、]+")

FIELD_LABELS: dict[str, str] = {
    "code": N_("Resource code"),
    "classification_code": N_("Classification"),
    "name": N_("Resource name"),
    "summary": N_("Summary"),
    "provider_code": N_("Provider"),
    "format": N_("Resource format"),
    "sharing_type": N_("Sharing type"),
    "sharing_condition": N_("Sharing conditions"),
    "sharing_methods": N_("Sharing methods"),
    "legal_basis": N_("Legal basis"),
    "open_to_public": N_("Open to the public"),
    "open_condition": N_("Opening conditions"),
    "update_cycle": N_("Update cycle"),
    "publish_date": N_("Publication date"),
    "related_codes": N_("Related resources"),
    "subject_key_type": N_("Subject identifier"),
    "status": N_("Status"),
    "contact_name": N_("Contact person"),
    "contact_phone": N_("Contact phone"),
    "contact_email": N_("Contact e-mail"),
    "items": N_("Information items"),
}
ITEM_LABELS: dict[str, str] = {
    "name": N_("Item name"),
    "data_type": N_("Data type"),
    "length": N_("Length"),
    "is_key": N_("Key"),
    "required": N_("Required"),
    "is_basic": N_("Basic item"),
    "sensitivity": N_("Sensitivity"),
    "masking_rule": N_("Masking rule"),
    "searchable": N_("Searchable"),
    "shareable": N_("Shareable"),
    "legal_basis": N_("Legal basis"),
    "description": N_("Description"),
    "position": N_("Position"),
}
# Which vocabulary (i18n.VOCAB_*) names the values of a field, for the detail and diff pages.
FIELD_VOCAB = {
    "format": "format", "sharing_type": "sharing_type", "sharing_methods": "sharing_method",
    "update_cycle": "update_cycle", "status": "status", "subject_key_type": "subject_key_type",
    "data_type": "data_type", "masking_rule": "masking_rule", "sensitivity": "sensitivity",
}  # fmt: skip


def empty_item() -> dict[str, Any]:
    return {
        "name": "", "data_type": "C", "length": "", "sensitivity": "1", "masking_rule": "none",
        "legal_basis": "", "description": "", "is_key": False, "required": False, "is_basic": False,
        "searchable": False, "shareable": True,
    }  # fmt: skip


@dataclass
class ResourceForm:
    """What the form shows: field values as typed, item rows, and problems by field."""

    values: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    expected_version: int | None = None

    def add_error(self, field_name: str, message: str) -> None:
        if field_name in FIELD_LABELS or field_name.startswith("items["):
            self.errors.setdefault(field_name, []).append(message)
        else:
            self.general.append(message)

    def add_problems(self, problems: list[dict[str, str]]) -> None:
        for p in problems:
            self.add_error(p.get("field", ""), p.get("message", ""))

    def pad(self, blank_rows: int) -> ResourceForm:
        self.items += [empty_item() for _ in range(blank_rows)]
        return self

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.general)


def blank_form() -> ResourceForm:
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update(
        format="database", sharing_type="unconditional", update_cycle="daily", subject_key_type="none",
        sharing_methods=["online_query"], open_to_public=False,
    )  # fmt: skip
    return ResourceForm(values=values).pad(BLANK_ROWS)


def from_resource(resource: Resource) -> ResourceForm:
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value: object = getattr(resource, name, None) if name != "provider_code" else resource.provider.code
        if name == "related_codes":
            value = " ".join(resource.related_codes)
        elif hasattr(value, "value"):
            value = value.value
        values[name] = "" if value is None else str(value)
    values["sharing_methods"] = list(resource.sharing_methods)
    values["open_to_public"] = resource.open_to_public
    items = []
    for item in resource.items:
        row: dict[str, Any] = {
            k: "" if getattr(item, k) is None else str(getattr(item, k)) for k in ITEM_TEXT
        }
        row.update({k: bool(getattr(item, k)) for k in ITEM_FLAGS})
        items.append(row)
    return ResourceForm(values=values, items=items, expected_version=resource.version)


def _is_blank(row: dict[str, Any]) -> bool:
    return not any(str(row[k]).strip() for k in ("name", "length", "legal_basis", "description"))


def from_post(form: FormData) -> ResourceForm:
    values: dict[str, Any] = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    values["sharing_methods"] = [str(v) for v in form.getlist("sharing_methods")]
    values["open_to_public"] = form.get("open_to_public") is not None
    rows: dict[int, dict[str, Any]] = {}
    for key in form:
        match = _ITEM_KEY.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})
    items = []
    for n in sorted(rows):
        row: dict[str, Any] = {k: str(form.get(f"items-{n}-{k}", "") or "") for k in ITEM_TEXT}
        row.update({k: form.get(f"items-{n}-{k}") is not None for k in ITEM_FLAGS})
        if not _is_blank(row):
            items.append(row)
    version = str(form.get("expected_version", ""))
    return ResourceForm(
        values=values, items=items, expected_version=int(version) if version.isdigit() else None
    )


def to_input(rf: ResourceForm, *, with_provider: bool) -> tuple[ResourceIn | None, list[dict[str, str]]]:
    """The service's input, or None with the problems that stop the form being read at all."""
    v = rf.values
    problems: list[dict[str, str]] = []
    publish_date = None
    if v["publish_date"].strip():
        try:
            publish_date = date.fromisoformat(v["publish_date"].strip())
        except ValueError:
            problems.append(_problem("publish_date", "invalid_date", _("Enter a date as YYYY-MM-DD.")))
    items = []
    for pos, row in enumerate(rf.items, start=1):
        length = row["length"].strip()
        if length and not length.isdigit():
            problems.append(_problem(f"items[{pos}].length", "invalid_length", _("Enter a whole number.")))
        sensitivity = row["sensitivity"].strip()
        items.append(
            {
                **{k: row[k] for k in ("name", "data_type", "masking_rule", "legal_basis", "description")},
                **{k: row[k] for k in ITEM_FLAGS},
                "length": int(length) if length.isdigit() else None,
                "sensitivity": int(sensitivity) if sensitivity.isdigit() else 0,
            }
        )
    data = {k: v[k] for k in TEXT_FIELDS if k not in ("publish_date", "related_codes", "provider_code")}
    data.update(
        sharing_methods=v["sharing_methods"],
        open_to_public=v["open_to_public"],
        publish_date=publish_date,
        related_codes=[c for c in _SPLIT.split(v["related_codes"]) if c],
        provider_code=v["provider_code"] or None if with_provider else None,
        items=items,
    )
    try:
        return ResourceIn(**data), problems
    except ValidationError as err:  # only malformed posts get here: every field above is a string/bool
        for e in err.errors():
            problems.append(_problem(".".join(str(p) for p in e["loc"]), e["type"], e["msg"]))
        return None, problems


def _problem(field_name: str, code: str, message: str) -> dict[str, str]:
    return {"field": field_name, "code": code, "message": message}
