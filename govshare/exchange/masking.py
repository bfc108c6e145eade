"""脱敏 (masking): what a consumer sees of an item its grant does not approve unmasked.

The provider declares each item's masking rule and sensitivity in the catalog (``Item.masking_rule``,
``Item.sensitivity``; vocabularies in govshare.catalog.vocab). The exchange masks every returned value
by its rule unless the grant approves that item unmasked; a 高度敏感 (level 4) item without a rule is
hidden entirely, because a provider who marked it so would not want it shown in clear by default.

The rules keep what a clerk needs to recognise the right person or company and nothing more:

==========  =================================  ==========================================
rule        keeps                              example
==========  =================================  ==========================================
id_number   the first 4 and last 4 characters  440305198001011234 → 4403**********1234
mobile      the first 3 and last 4 digits      13812345678 → 138****5678
name        the first character (the surname)  张三 → 张*, 欧阳明月 → 欧***
address     up to the district (区/县/旗)        深圳市南山区粤海街道1号 → 深圳市南山区***
full        nothing                            anything → ***
==========  =================================  ==========================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

HIDDEN = "***"  # also the length-hiding mask of ``full``
HIGHLY_SENSITIVE = 4  # SENSITIVITY_LEVELS[4] = 高度敏感

# The first district-level name in an address: …区 / …县 / …旗, but not 小区 or 社区 (residential
# compounds and communities come after the district).
_DISTRICT = re.compile(r"^.*?(?<![小社园校营])(?:区|县|旗)")


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return HIDDEN if len(value) <= tail else value[:1] + "*" * (len(value) - 1)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value: str) -> str:
    """证件号码: first 4 and last 4 kept (an 18-character ID keeps its region prefix and check character)."""
    return _keep_ends(value, 4, 4)


def mask_mobile(value: str) -> str:
    """手机号码: first 3 and last 4 kept; separators are dropped first (138-1234-5678 → 138****5678)."""
    digits = re.sub(r"[\s\-()]", "", value)
    return _keep_ends(digits, 3, 4)


def mask_name(value: str) -> str:
    """姓名: the first character kept, every other one a star (the length shows, as on paper forms)."""
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else "*"


def mask_address(value: str) -> str:
    """地址: kept up to the district; with no district in it, only the first 3 characters."""
    match = _DISTRICT.match(value)
    kept = match.group(0) if match else value[:3]
    return kept + HIDDEN if len(kept) < len(value) else kept


def mask_full(_value: str) -> str:
    return HIDDEN


MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "mobile": mask_mobile,
    "name": mask_name,
    "address": mask_address,
    "full": mask_full,
}


class MaskedItem(Protocol):
    """What masking needs to know of a catalog item (govshare.catalog.models.Item has it)."""

    name: str
    masking_rule: str
    sensitivity: int


def rule_for(item: MaskedItem) -> str:
    """The rule applied to ``item`` when masked: its declared rule, ``full`` for an unruled 高度敏感 item."""
    rule = item.masking_rule or "none"
    if rule == "none" and (item.sensitivity or 0) >= HIGHLY_SENSITIVE:
        return "full"
    return rule


def mask_value(value: Any, rule: str) -> Any:
    """``value`` masked by ``rule`` (None and empty values stay as they are: absence is not secret)."""
    if value is None or value == "" or rule == "none":
        return value
    try:
        mask = MASKS[rule]
    except KeyError:
        return HIDDEN  # an unknown rule hides rather than leaks
    return mask(str(value))


def mask_record(
    values: Mapping[str, Any], items: Iterable[MaskedItem], unmasked: Iterable[str] = ()
) -> dict[str, Any]:
    """The values of ``items`` only (anything else in ``values`` is dropped), each masked by its rule
    unless its name is in ``unmasked`` (items the grant approves in clear)."""
    clear = set(unmasked)
    out: dict[str, Any] = {}
    for item in items:
        if item.name not in values:
            continue
        value = values[item.name]
        out[item.name] = value if item.name in clear else mask_value(value, rule_for(item))
    return out
