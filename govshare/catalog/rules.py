"""Catalog rules as plain functions: check a ``ResourceIn`` and normalise it, reporting every problem.

No database here, so the rules are unit-tested directly and shared by the API, the web form and the
bulk sheet import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from govshare.catalog import classification, vocab
from govshare.catalog.schemas import ItemIn, ResourceIn
from govshare.core.errors import ValidationFailed

NAME_MAX = 50  # 信息资源名称 ≤ 50 characters (national guide)
SUMMARY_MAX = 256  # 信息资源摘要 ≤ 256 characters
ITEM_NAME_MAX = 50
ITEMS_MAX = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RESOURCE_CODE = re.compile(r"^[123]\d{2}(\d{3}\d{0,6})?/\d{6}$")


@dataclass
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class Checked:
    """A normalised resource declaration (codes resolved from labels) and the problems found."""

    values: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str) -> None:
        self.problems.append(Problem(field_name, code, message))

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise invalid(self.problems)


def invalid(problems: list[Problem]) -> ValidationFailed:
    """One ValidationFailed naming the first problem, listing all of them in details."""
    first = problems[0]
    more = f"（另有 {len(problems) - 1} 项问题）" if len(problems) > 1 else ""
    return ValidationFailed(first.code, first.message + more, {"errors": [p.as_dict() for p in problems]})


def _text(value: str) -> str:
    return value.strip()


def check_resource(data: ResourceIn) -> Checked:
    """Check every catalog rule that needs no database, returning normalised values and problems."""
    out = Checked()
    v = out.values

    v["name"] = name = _text(data.name)
    if not name:
        out.add("name", "name_required", "信息资源名称不能为空")
    elif len(name) > NAME_MAX:
        out.add("name", "name_too_long", f"信息资源名称不能超过 {NAME_MAX} 个字符（当前 {len(name)} 个）")

    v["summary"] = summary = _text(data.summary)
    if not summary:
        out.add("summary", "summary_required", "信息资源摘要不能为空")
    elif len(summary) > SUMMARY_MAX:
        out.add(
            "summary",
            "summary_too_long",
            f"信息资源摘要不能超过 {SUMMARY_MAX} 个字符（当前 {len(summary)} 个）",
        )

    cls = classification.parse(data.classification_code)
    v["classification_code"] = data.classification_code.strip()
    if cls is None:
        out.add(
            "classification_code",
            "invalid_classification",
            f"分类代码“{data.classification_code}”无效：应为 类(1位)+项(2位)[+目(3位)[+细目]]，如 101",
        )

    _vocab_field(out, "format", data.format, vocab.FORMATS, "信息资源格式")
    _vocab_field(out, "update_cycle", data.update_cycle, vocab.UPDATE_CYCLES, "更新周期")
    _vocab_field(out, "subject_key_type", data.subject_key_type, vocab.SUBJECT_KEY_TYPES, "主体标识类型")

    sharing = vocab.SHARING_TYPE_CODES.get(data.sharing_type.strip()) or vocab.resolve(
        vocab.SHARING_TYPE_LABELS, data.sharing_type
    )
    v["sharing_type"] = sharing
    if sharing is None:
        out.add("sharing_type", "invalid_sharing_type", "共享类型须为 无条件共享 / 有条件共享 / 不予共享")

    v["sharing_condition"] = _text(data.sharing_condition)
    v["legal_basis"] = _text(data.legal_basis)
    if sharing == "conditional" and not v["sharing_condition"]:
        out.add("sharing_condition", "sharing_condition_required", "有条件共享的资源须写明共享条件")
    if sharing == "none" and not v["legal_basis"]:
        out.add("legal_basis", "legal_basis_required", "不予共享的资源须写明法律、行政法规或国家政策依据")

    methods: list[str] = []
    for raw in data.sharing_methods:
        code = vocab.resolve(vocab.SHARING_METHODS, raw)
        if code is None:
            out.add("sharing_methods", "invalid_sharing_method", f"未知的共享方式“{raw}”")
        elif code not in methods:
            methods.append(code)
    v["sharing_methods"] = methods
    if sharing in ("unconditional", "conditional") and not data.sharing_methods:
        out.add("sharing_methods", "sharing_method_required", "可共享的资源须至少选择一种共享方式")

    v["open_to_public"] = data.open_to_public
    v["open_condition"] = _text(data.open_condition)
    if data.open_to_public and sharing == "none":
        out.add("open_to_public", "open_but_not_shared", "不予共享的资源不能向社会开放")

    v["publish_date"] = data.publish_date
    related = []
    for raw in data.related_codes:
        code = raw.strip()
        if not _RESOURCE_CODE.match(code):
            out.add(
                "related_codes", "invalid_related_code", f"关联资源代码“{raw}”格式不正确（如 101/000001）"
            )
        elif code not in related:
            related.append(code)
    v["related_codes"] = related

    v["contact_name"] = _text(data.contact_name)[:50]
    v["contact_phone"] = _text(data.contact_phone)
    v["contact_email"] = _text(data.contact_email)
    if v["contact_email"] and not _EMAIL.match(v["contact_email"]):
        out.add("contact_email", "invalid_email", f"联系邮箱“{v['contact_email']}”格式不正确")
    if len(v["contact_phone"]) > 30:
        out.add("contact_phone", "invalid_phone", "联系电话不能超过30个字符")

    _check_items(out, data.items, sharing, v.get("subject_key_type"))
    return out


def _vocab_field(out: Checked, name: str, raw: str, vocabulary: dict[str, str], label: str) -> None:
    code = vocab.resolve(vocabulary, raw)
    out.values[name] = code
    if code is None:
        allowed = "、".join(f"{c}（{lbl}）" for c, lbl in vocabulary.items())
        out.add(name, f"invalid_{name}", f"{label}“{raw}”无效，可选：{allowed}")


def _check_items(out: Checked, items: list[ItemIn], sharing: str | None, subject_key: str | None) -> None:
    if not items:
        out.add("items", "items_required", "至少登记一个信息项")
        return
    if len(items) > ITEMS_MAX:
        out.add("items", "too_many_items", f"信息项不能超过 {ITEMS_MAX} 个")
        return
    seen: set[str] = set()
    for pos, item in enumerate(items, start=1):
        where = f"items[{pos}]"
        name = item.name.strip()
        if not name:
            out.add(f"{where}.name", "item_name_required", f"第 {pos} 个信息项缺少名称")
        elif len(name) > ITEM_NAME_MAX:
            out.add(
                f"{where}.name", "item_name_too_long", f"信息项“{name[:20]}…”名称超过 {ITEM_NAME_MAX} 个字符"
            )
        elif name in seen:
            out.add(f"{where}.name", "duplicate_item_name", f"信息项“{name}”重复")
        seen.add(name)
        data_type = item.data_type.strip().upper()
        if data_type not in vocab.DATA_TYPES:
            out.add(
                f"{where}.data_type",
                "invalid_data_type",
                f"信息项“{name}”的数据类型“{item.data_type}”无效，可选：{'、'.join(vocab.DATA_TYPES)}",
            )
        if item.sensitivity not in vocab.SENSITIVITY_LEVELS:
            out.add(f"{where}.sensitivity", "invalid_sensitivity", f"信息项“{name}”的敏感级别须为 1–4")
        if item.masking_rule not in vocab.MASKING_RULES:
            out.add(
                f"{where}.masking_rule",
                "invalid_masking_rule",
                f"信息项“{name}”的脱敏规则“{item.masking_rule}”无效",
            )
        if item.length is not None and not (0 < item.length <= 100000):
            out.add(f"{where}.length", "invalid_length", f"信息项“{name}”的长度须为正整数")
        basis = item.legal_basis.strip()
        shareable = item.shareable and sharing != "none"
        if sharing in ("unconditional", "conditional") and not item.shareable and not basis:
            out.add(
                f"{where}.legal_basis",
                "legal_basis_required",
                f"信息项“{name}”不予共享，须写明法律依据",
            )
        if item.is_key and not item.shareable and sharing != "none":
            out.add(f"{where}.shareable", "key_item_not_shareable", f"主键信息项“{name}”不能设为不予共享")
        out.items.append(
            {
                "position": pos,
                "name": name,
                "data_type": data_type,
                "length": item.length,
                "is_key": item.is_key,
                "required": item.required or item.is_key,
                "sensitivity": item.sensitivity,
                "masking_rule": item.masking_rule,
                "searchable": item.searchable,
                "shareable": shareable,
                "legal_basis": basis,
                "is_basic": item.is_basic,
                "description": item.description.strip()[:256],
            }
        )
    if subject_key and subject_key != "none" and not any(i.is_key for i in items):
        out.add("items", "key_item_required", "有主体标识类型的资源须指定至少一个主键信息项")
