"""Access request rules as plain functions (no database): what may be asked for, and what an approval
may grant. Every problem is reported at once, each with a stable code.

- The resource must be published and shareable: a 不予共享 resource is refused with the legal basis it
  was put on the negative list with.
- Items must exist in the resource and be shareable (non-shareable items are never granted).
- Operations: ``search`` only on searchable items, ``profile`` only on resources about a subject,
  ``bulk_export`` only where the catalog entry offers a bulk sharing method.
- A purpose is required; the period may not end before it starts, lie in the past, or exceed the
  configured maximum.
- An approval may only narrow: fewer items and operations, an earlier end, unmasked items among the
  granted ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from govshare.catalog.models import Resource, ResourceStatus, SharingType, SubjectKeyType
from govshare.catalog.rules import Problem, invalid
from govshare.exchange.grant_schemas import AccessRequestIn, TermsIn
from govshare.exchange.models import Operation

PURPOSE_MAX = 1000
SERVICE_ITEM = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
BULK_METHODS = {"system_integration", "download", "copy"}  # 库表交换 needs one of these
DEFAULT_DAYS = 365


@dataclass
class Terms:
    """Normalised terms of a request or a grant."""

    items: list[str]
    operations: list[str]
    valid_from: date
    valid_to: date
    unmasked_items: list[str] = field(default_factory=list)
    service_items: list[str] = field(default_factory=list)
    purpose: str = ""
    legal_basis: str = ""
    conditions: str = ""
    rate_limit_per_minute: int | None = None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def _operations(values: list[str], problems: list[Problem]) -> list[str]:
    ops = _unique(values)
    unknown = [op for op in ops if op not in Operation._value2member_map_]
    if not ops:
        problems.append(Problem("operations", "operations_required", "请至少选择一种调用方式"))
    for op in unknown:
        known = "、".join(o.value for o in Operation)
        problems.append(Problem("operations", "unknown_operation", f"未知的调用方式 {op}（可选：{known}）"))
    return [op for op in ops if op not in unknown]


def _period(start: date, end: date, today: date, max_days: int, problems: list[Problem]) -> None:
    if end < start or end < today:
        problems.append(Problem("valid_to", "invalid_period", "使用期限的截止日期不能早于开始日期或今天"))
    elif (end - start).days + 1 > max_days:
        problems.append(Problem("valid_to", "period_too_long", f"使用期限最长 {max_days} 天"))


def check_request(resource: Resource, data: AccessRequestIn, *, today: date, max_days: int) -> Terms:
    """The normalised terms of ``data`` against ``resource``, or ValidationFailed listing every problem."""
    problems: list[Problem] = []
    if resource.status != ResourceStatus.PUBLISHED:
        problems.append(Problem("resource_code", "resource_not_published", f"资源 {resource.code} 未发布"))
    if resource.sharing_type == SharingType.NONE:
        basis = resource.legal_basis or "（未载明）"
        problems.append(
            Problem(
                "resource_code",
                "resource_not_shared",
                f"资源 {resource.code} 列入负面清单，不予共享。依据：{basis}",
            )
        )
    by_name = {item.name: item for item in resource.items}
    items = _unique(data.items) or [i.name for i in resource.items if i.shareable]
    for name in items:
        item = by_name.get(name)
        if item is None:
            problems.append(Problem("items", "unknown_item", f"资源 {resource.code} 没有信息项“{name}”"))
        elif not item.shareable:
            basis = item.legal_basis or "（未载明）"
            problems.append(Problem("items", "item_not_shareable", f"信息项“{name}”不予共享。依据：{basis}"))
    unmasked = _unique(data.unmasked_items)
    for name in unmasked:
        if name not in items:
            problems.append(
                Problem(
                    "unmasked_items", "unmasked_item_not_requested", f"申请不脱敏的“{name}”不在所需信息项中"
                )
            )
    operations = _operations(data.operations, problems)
    granted = [by_name[n] for n in items if n in by_name]
    if Operation.SEARCH in operations and not any(i.searchable for i in granted):
        problems.append(
            Problem(
                "operations",
                "operation_not_allowed",
                "检索（search）只能用于可检索的信息项，所需信息项中没有",
            )
        )
    if Operation.PROFILE in operations and resource.subject_key_type == SubjectKeyType.NONE:
        problems.append(
            Problem(
                "operations", "operation_not_allowed", "主体画像（profile）只能用于以主体标识为主键的资源"
            )
        )
    if Operation.BULK_EXPORT in operations and not BULK_METHODS & set(resource.sharing_methods):
        problems.append(
            Problem(
                "operations",
                "operation_not_allowed",
                "该资源的共享方式不含系统对接、下载或拷贝，不能批量导出",
            )
        )
    purpose = data.purpose.strip()
    if not purpose or len(purpose) > PURPOSE_MAX:
        problems.append(Problem("purpose", "purpose_required", f"须填写使用用途（不超过{PURPOSE_MAX}字）"))
    service_items = _unique(data.service_items)
    for code in service_items:
        if not SERVICE_ITEM.match(code):
            problems.append(
                Problem("service_items", "invalid_service_item", f"政务服务事项编码格式不正确：{code}")
            )
    start = data.valid_from or today
    end = data.valid_to or start + timedelta(days=min(DEFAULT_DAYS, max_days) - 1)
    _period(start, end, today, max_days, problems)
    if problems:
        raise invalid(problems)
    return Terms(
        items=items, operations=operations, valid_from=start, valid_to=end, unmasked_items=unmasked,
        service_items=service_items, purpose=purpose, legal_basis=data.legal_basis.strip(),
    )  # fmt: skip


def check_narrowing(requested: Terms, data: TermsIn, *, today: date) -> Terms:
    """What an approval grants: a subset of the request (items, operations, period), or ValidationFailed."""
    problems: list[Problem] = []
    items = _unique(data.items) if data.items is not None else list(requested.items)
    if not items:
        problems.append(Problem("items", "items_required", "至少同意一个信息项"))
    for name in items:
        if name not in requested.items:
            problems.append(Problem("items", "item_not_requested", f"信息项“{name}”不在申请范围内"))
    operations = (
        _operations(data.operations, problems) if data.operations is not None else requested.operations
    )
    for op in operations:
        if op not in requested.operations:
            problems.append(Problem("operations", "operation_not_requested", f"调用方式 {op} 不在申请范围内"))
    unmasked = _unique(data.unmasked_items)
    for name in unmasked:
        if name not in items:
            problems.append(
                Problem("unmasked_items", "unmasked_item_not_granted", f"不脱敏的“{name}”不在同意的信息项中")
            )
    end = data.valid_to or requested.valid_to
    if end > requested.valid_to or end < max(requested.valid_from, today):
        problems.append(Problem("valid_to", "invalid_period", "授权截止日期须在申请期限内且不早于今天"))
    if problems:
        raise invalid(problems)
    return Terms(
        items=items, operations=list(operations), valid_from=requested.valid_from, valid_to=end,
        unmasked_items=unmasked, service_items=requested.service_items, purpose=requested.purpose,
        legal_basis=requested.legal_basis, conditions=data.conditions.strip(),
        rate_limit_per_minute=data.rate_limit_per_minute,
    )  # fmt: skip
