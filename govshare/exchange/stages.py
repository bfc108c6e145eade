"""Review stages of an access request (审核环节), read from the ``exchange_request_stages`` setting.

The setting lists the stages in order with their deadlines in working days, e.g. ``provider:10`` (the
national rule: the provider answers within 10 working days) or ``compliance:2,provider:5,
provider_unpublished:10`` (the platform authority first checks compliance, 符合性审查, within 2 working
days; the provider then has 5, or 10 when the resource is in the catalog but has no data on the
platform yet and must first be published). The request keeps a copy of its pipeline, so changing the
setting never moves the deadline of a request already filed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

AUTHORITY = "authority"  # 数据管理部门
PROVIDER = "provider"  # 提供方部门的数据管理员
ACTORS = {"compliance": AUTHORITY, "provider": PROVIDER}
STAGE_LABELS = {"compliance": "符合性审查", "provider": "提供方审核", "escalation": "协调（终局决定）"}


@dataclass(frozen=True)
class Stage:
    name: str  # compliance / provider
    actor: str  # authority / provider: who decides at this stage
    days: int  # working days (工作日) allowed, counted from the day the stage starts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pipeline(spec: str, *, has_data: bool) -> list[Stage]:
    """The stages ``spec`` describes, for a resource with (or without) data on the platform."""
    days: dict[str, int] = {}
    order: list[str] = []
    for part in spec.split(","):
        name, _, number = part.strip().partition(":")
        days[name] = int(number)
        if name in ACTORS and name not in order:
            order.append(name)
    if "provider" not in order or any(days[n] <= 0 for n in order):
        raise ValueError(f"exchange_request_stages needs a provider stage of at least 1 day: {spec!r}")
    if not has_data and days.get("provider_unpublished"):
        days["provider"] = days["provider_unpublished"]
    return [Stage(name, ACTORS[name], days[name]) for name in order]
