"""Data demands (需求清单): filed by a department, assigned by the authority with a working-day due
date, answered by the responsible department with a published resource or a reason; overdue listed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govshare.catalog import service as catalog
from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.core.workdays import add_working_days
from govshare.exchange import demands
from govshare.exchange.grant_schemas import DemandIn
from govshare.exchange.models import DemandStatus
from tests.factories import publish, resource_in
from tests.integration.grant_support import BEFORE_NATIONAL_DAY, SERVICE_ITEM

WANTED = DemandIn(title="婚姻登记信息", reason="办理公积金贷款时核验婚姻状况", service_items=[SERVICE_ITEM])


@pytest.fixture
def demand(session, city):
    return demands.file_demand(session, city.market_officer, WANTED, BEFORE_NATIONAL_DAY)


def assign(session, city, demand, now=BEFORE_NATIONAL_DAY, days=20):
    return demands.assign_demand(
        session, city.admin, demand.id, city.police.code, deadline_days=days, now=now
    )


def test_a_demand_needs_what_and_why(session, city):
    with pytest.raises(ValidationFailed) as err:
        demands.file_demand(
            session, city.market_officer, DemandIn(title=" ", reason="", service_items=["坏 码"])
        )
    assert {e["code"] for e in err.value.details["errors"]} == {
        "title_required",
        "reason_required",
        "invalid_service_item",
    }
    with pytest.raises(PermissionDenied):
        demands.file_demand(session, city.auditor, WANTED)


def test_filed_demand_waits_for_assignment(session, city, demand):
    assert (demand.status, demand.department_id, demand.due_at) == (DemandStatus.OPEN, city.market.id, None)
    assert demand.service_items == [SERVICE_ITEM]


def test_only_the_authority_assigns_with_a_working_day_due_date(session, city, demand):
    with pytest.raises(PermissionDenied) as err:
        demands.assign_demand(session, city.police_officer, demand.id, city.police.code, deadline_days=20)
    assert err.value.code == "authority_only"
    assign(session, city, demand, days=20)
    expected = add_working_days(BEFORE_NATIONAL_DAY, 20)
    assert (demand.status, demand.assigned_department_id) == (DemandStatus.ASSIGNED, city.police.id)
    assert demand.due_at == expected.due_at and demand.due_estimated == expected.estimated


def test_the_assignee_answers_with_its_published_resource(session, city, demand):
    assign(session, city, demand)
    with pytest.raises(PermissionDenied) as err:
        demands.answer_demand(session, city.market_officer, demand.id, reason="不是我们")
    assert err.value.code == "not_assignee"
    draft = catalog.create_resource(session, city.police_officer, resource_in(name="婚姻登记信息"))
    with pytest.raises(ValidationFailed) as err:
        demands.answer_demand(session, city.police_officer, demand.id, draft.code)
    assert err.value.code == "resource_not_published"
    others = publish(session, city, city.market_officer, name="市场主体登记信息")
    with pytest.raises(ValidationFailed) as err:
        demands.answer_demand(session, city.police_officer, demand.id, others.code)
    assert err.value.code == "not_own_resource"
    published = publish(session, city, city.police_officer, name="婚姻登记基础信息")
    demands.answer_demand(session, city.police_officer, demand.id, published.code, "已登记发布")
    assert (demand.status, demand.resource_id, demand.answer) == (
        DemandStatus.FULFILLED,
        published.id,
        "已登记发布",
    )
    with pytest.raises(Conflict):
        demands.answer_demand(session, city.police_officer, demand.id, reason="再答")


def test_declining_needs_a_reason(session, city, demand):
    assign(session, city, demand)
    with pytest.raises(ValidationFailed) as err:
        demands.answer_demand(session, city.police_officer, demand.id)
    assert err.value.code == "reason_required"
    demands.answer_demand(session, city.police_officer, demand.id, reason="婚姻登记由民政局负责")
    assert demand.status == DemandStatus.DECLINED and demand.answered_by_id == city.police_officer.id


def test_overdue_demands_are_flagged_and_listed(session, city, demand):
    later = demands.file_demand(session, city.market_officer, WANTED, BEFORE_NATIONAL_DAY)
    assign(session, city, demand)
    assign(session, city, later, now=BEFORE_NATIONAL_DAY + timedelta(days=60))
    after_due = demand.due_at + timedelta(seconds=1)
    assert demand.is_overdue(after_due) and not later.is_overdue(after_due)
    assert demands.list_demands(session, overdue_only=True, now=after_due) == [demand]
    assert set(demands.list_demands(session, "assigned")) == {demand, later}
    assert set(demands.list_demands(session, department_id=city.police.id)) == {demand, later}
    assert demands.list_demands(session, department_id=city.authority_dept.id) == []
    demands.answer_demand(session, city.police_officer, demand.id, reason="由民政局负责")
    assert demands.list_demands(session, overdue_only=True, now=after_due) == []
