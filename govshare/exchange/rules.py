"""Application registration rules as plain functions (no database), reporting every problem at once."""

from __future__ import annotations

import re
from typing import Any

from govshare.catalog.rules import Problem, invalid
from govshare.exchange.models import CHANNEL_LABELS, Channel
from govshare.exchange.schemas import ApplicationIn

NAME_MAX = 100
CONTACT_NAME_MAX = 50
DESCRIPTION_MAX = 500
# Mainland mobile numbers (optionally +86), landlines with area code and extension, 400/800 lines.
_PHONES = (
    re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$"),
    re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$"),
    re.compile(r"^[48]00-?\d{3}-?\d{4}$"),
)


def normalize_phone(phone: str) -> str | None:
    """The phone without spaces if it is a plausible Chinese mobile, landline or 400/800 number."""
    compact = re.sub(r"\s+", "", phone)
    return compact if any(p.match(compact) for p in _PHONES) else None


def check_application(data: ApplicationIn) -> dict[str, Any]:
    """Normalised registration values, or ValidationFailed listing every problem."""
    problems: list[Problem] = []
    name = data.name.strip()
    if not name or len(name) > NAME_MAX:
        problems.append(Problem("name", "invalid_name", f"应用名称不能为空且不超过{NAME_MAX}个字符"))
    channel = Channel._value2member_map_.get(data.channel.strip())
    if channel is None:
        labels = "、".join(f"{c.value}（{label}）" for c, label in CHANNEL_LABELS.items())
        problems.append(Problem("channel", "invalid_channel", f"应用渠道须为：{labels}"))
    contact = data.contact_name.strip()
    if not contact or len(contact) > CONTACT_NAME_MAX:
        problems.append(
            Problem("contact_name", "invalid_contact_name", f"联系人不能为空且不超过{CONTACT_NAME_MAX}个字符")
        )
    phone = normalize_phone(data.contact_phone)
    if phone is None:
        problems.append(
            Problem(
                "contact_phone",
                "invalid_phone",
                "联系电话须为手机号码（如 13800138000）或带区号的固定电话（如 0755-88880000）",
            )
        )
    description = data.description.strip()
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            Problem("description", "invalid_description", f"应用说明不能超过{DESCRIPTION_MAX}个字符")
        )
    if problems:
        raise invalid(problems)
    return {
        "name": name,
        "channel": channel,
        "contact_name": contact,
        "contact_phone": phone,
        "description": description,
    }
