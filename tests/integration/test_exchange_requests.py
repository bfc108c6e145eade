"""Access requests (共享申请): validation, auto-grant, working-day deadlines, stages, decisions,
overdue listing, escalation and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.core.workdays import CHINA_TZ, add_working_days
from govshare.data import service as data
from govshare.exchange import grants, requests
from govshare.exchange.grant_schemas import DecisionIn
from govshare.exchange.models import DecisionKind, GrantStatus, RequestStatus
from tests.factories import publish
from tests.integration.grant_support import (
    BEFORE_NATIONAL_DAY,
    RELIGION_BASIS,
    approve,
    market_app,
    publish_people,
    request_in,
    settings_with,
    submit,
)

application = pytest.fixture(market_app)  # an application of 市场监管局
people = pytest.fixture(publish_people)  # the police's conditional population resource


def codes(err: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e["code"] for e in err.value.details["errors"]}


def test_every_problem_of_a_request_is_reported_at_once_with_its_code(session, city, application, people):
    with pytest.raises(ValidationFailed) as err:
        submit(
            session, city, application, people, items=["姓名", "不存在", "宗教信仰"], unmasked_items=["出生日期"],
            operations=["search", "teleport"], purpose="  ", service_items=["事项 1"],
            valid_from=date(2026, 10, 10), valid_to=date(2026, 10, 1),
        )  # fmt: skip
    assert codes(err) == {
        "unknown_item", "item_not_shareable", "unmasked_item_not_requested", "unknown_operation",
        "operation_not_allowed", "purpose_required", "invalid_service_item", "invalid_period",
    }  # fmt: skip
    assert err.value.status == 422
    religion = next(e for e in err.value.details["errors"] if e["code"] == "item_not_shareable")
    assert RELIGION_BASIS in religion["message"]


def test_search_is_allowed_when_a_requested_item_is_searchable(session, city, application, people):
    request = submit(session, city, application, people, operations=["search"])
    assert request.operations == ["search"] and request.status == RequestStatus.PENDING


def test_a_not_shared_resource_is_refused_with_its_negative_list_basis(session, city, application):
    secret = publish_people(
        session, city, sharing="none", name="涉密人口信息", legal_basis="《保守国家秘密法》"
    )
    with pytest.raises(ValidationFailed) as err:
        submit(session, city, application, secret)
    assert "resource_not_shared" in codes(err)
    assert "《保守国家秘密法》" in err.value.message


def test_empty_operations_bulk_export_without_a_bulk_method_and_profile_without_a_subject(
    session, city, application
):
    plain = publish(session, city, city.police_officer, name="治安案件统计", subject_key_type="none")
    with pytest.raises(ValidationFailed) as err:
        submit(session, city, application, plain, items=[], operations=["bulk_export", "profile"])
    messages = [e["message"] for e in err.value.details["errors"] if e["code"] == "operation_not_allowed"]
    assert len(messages) == 2 and any("profile" in m for m in messages) and any("批量" in m for m in messages)
    with pytest.raises(ValidationFailed) as err:
        submit(session, city, application, plain, items=[], operations=[])
    assert codes(err) == {"operations_required"}


def test_a_period_longer_than_the_setting_is_refused(session, city, application, people):
    short = settings_with(exchange_grant_max_days=30)
    start = BEFORE_NATIONAL_DAY.astimezone(CHINA_TZ).date()
    with pytest.raises(ValidationFailed) as err:
        submit(
            session, city, application, people, short, valid_from=start, valid_to=start + timedelta(days=30)
        )
    assert codes(err) == {"period_too_long"}
    assert submit(
        session, city, application, people, short, valid_to=start + timedelta(days=29)
    ).valid_to == start + timedelta(days=29)


def test_unconditional_resource_is_granted_at_once_without_non_shareable_items(session, city, application):
    open_people = publish_people(session, city, sharing="unconditional")
    request = submit(session, city, application, open_people, items=[])  # every shareable item
    assert request.status == RequestStatus.APPROVED and request.due_at is None
    grant = session.get(grants.Grant, request.grant_id)
    assert grant.items == ["公民身份号码", "姓名", "出生日期"] and "宗教信仰" not in grant.items
    assert grant.purpose == "企业开办时核验法定代表人身份" and grant.status == GrantStatus.ACTIVE
    assert [d.decision for d in request.decisions] == [DecisionKind.SUBMITTED, DecisionKind.AUTO_GRANTED]
    assert (
        grants.check_grant(session, application, open_people, "lookup", ["姓名"], request.service_items[0])
        == grant
    )
    with pytest.raises(PermissionDenied) as err:
        grants.check_grant(
            session, application, open_people, "lookup", ["宗教信仰"], request.service_items[0]
        )
    assert err.value.code == "item_not_granted"


def test_conditional_request_is_due_ten_working_days_later_across_national_day(
    session, city, application, people
):
    request = submit(session, city, application, people)
    expected = add_working_days(BEFORE_NATIONAL_DAY, 10)
    assert (request.status, request.stage["name"]) == (RequestStatus.PENDING, "provider")
    assert request.due_at == expected.due_at and not request.due_estimated
    # Checked against the holiday data itself: ten working days after the filing day, the last one
    # on the due date, the National Day holiday in between.
    filed = BEFORE_NATIONAL_DAY.astimezone(CHINA_TZ).date()
    due = request.due_at.astimezone(CHINA_TZ).date()
    assert len(chinese_calendar.get_workdays(filed + timedelta(days=1), due)) == 10
    assert chinese_calendar.is_workday(due) and chinese_calendar.is_holiday(date(2026, 10, 1))
    assert (due - filed).days > 14
    assert not request.is_overdue(BEFORE_NATIONAL_DAY)
    with pytest.raises(PermissionDenied) as err:
        grants.check_grant(session, application, people, "lookup", ["姓名"])
    assert err.value.code == "no_grant"


def test_compliance_review_by_the_authority_comes_before_the_provider(session, city, application, people):
    settings = settings_with(exchange_request_stages="compliance:2,provider:10")
    request = submit(session, city, application, people, settings)
    assert request.stage == {"name": "compliance", "actor": "authority", "days": 2}
    assert request.due_at == add_working_days(BEFORE_NATIONAL_DAY, 2).due_at
    with pytest.raises(PermissionDenied) as err:
        requests.decide(session, city.market_officer, request.id, DecisionIn(decision="approve"))
    assert err.value.code == "authority_only"
    with pytest.raises(PermissionDenied) as err:
        approve(session, city, request)  # the provider does not see it yet
    assert err.value.code == "not_party"
    passed_at = BEFORE_NATIONAL_DAY + timedelta(days=9)
    requests.decide(
        session, city.admin, request.id, DecisionIn(decision="approve", reason="材料齐全"), passed_at
    )
    assert request.stage["name"] == "provider" and request.due_at == add_working_days(passed_at, 10).due_at
    approve(session, city, request)
    history = [(d.stage, d.decision, d.actor_id) for d in request.decisions]
    assert history == [
        ("submission", DecisionKind.SUBMITTED, city.market_officer.id),
        ("compliance", DecisionKind.PASSED, city.admin.id),
        ("provider", DecisionKind.APPROVED, city.police_officer.id),
    ]
    assert request.decisions[1].reason == "材料齐全"


def test_the_provider_sees_a_request_only_once_it_passed_compliance(session, city, application, people):
    settings = settings_with(exchange_request_stages="compliance:2,provider:10")
    passed, stopped = (submit(session, city, application, people, settings) for _ in range(2))
    assert requests.list_requests(session, city.police_officer, "inbox") == []
    with pytest.raises(PermissionDenied):
        requests.get_request(session, city.police_officer, passed.id)
    assert set(requests.list_requests(session, city.admin, "inbox")) == {passed, stopped}
    requests.decide(session, city.admin, passed.id, DecisionIn(decision="approve"))
    requests.decide(session, city.admin, stopped.id, DecisionIn(decision="reject", reason="依据不足"))
    assert requests.list_requests(session, city.police_officer, "inbox") == [passed]
    assert requests.get_request(session, city.police_officer, passed.id) == passed
    assert set(requests.list_requests(session, city.market_officer, "filed")) == {passed, stopped}


def test_compliance_rejection_ends_the_request(session, city, application, people):
    request = submit(
        session, city, application, people, settings_with(exchange_request_stages="compliance:2,provider:10")
    )
    requests.decide(session, city.admin, request.id, DecisionIn(decision="reject", reason="用途与事项不符"))
    assert request.status == RequestStatus.REJECTED and request.grant_id is None


def test_the_provider_gets_longer_while_the_resource_has_no_data(session, city, application, people):
    settings = settings_with(exchange_request_stages="provider:5,provider_unpublished:10")
    first = submit(session, city, application, people, settings)
    assert first.due_at == add_working_days(BEFORE_NATIONAL_DAY, 10).due_at
    row = {"公民身份号码": "110101199003074514", "姓名": "张三", "出生日期": "1990-03-07"}
    report = data.load(session, city.police_officer, people.code, list(row), [(2, row)], batch_key="b1")
    assert report.inserted == 1
    second = submit(session, city, application, people, settings)
    assert second.due_at == add_working_days(BEFORE_NATIONAL_DAY, 5).due_at


def test_the_provider_approves_narrowing_items_and_operations(session, city, application, people):
    request = submit(session, city, application, people, unmasked_items=["姓名", "公民身份号码"])
    approve(
        session, city, request, items=["公民身份号码", "姓名"], operations=["verify"], unmasked_items=["姓名"],
        conditions="仅用于企业开办", rate_limit_per_minute=60, valid_to=date(2027, 3, 31),
    )  # fmt: skip
    grant = session.get(grants.Grant, request.grant_id)
    assert request.status == RequestStatus.APPROVED and request.due_at is None
    assert (grant.items, grant.operations, grant.unmasked_items) == (
        ["公民身份号码", "姓名"],
        ["verify"],
        ["姓名"],
    )
    assert (grant.conditions, grant.rate_limit_per_minute, grant.valid_to) == (
        "仅用于企业开办",
        60,
        date(2027, 3, 31),
    )
    assert grant.service_items == request.service_items and grant.purpose == request.purpose
    assert request.decisions[-1].details["items"] == ["公民身份号码", "姓名"]
    service = request.service_items[0]
    assert (
        grants.check_grant(session, application, people, "verify", ["公民身份号码", "姓名"], service) == grant
    )
    with pytest.raises(PermissionDenied) as err:
        grants.check_grant(session, application, people, "verify", ["出生日期"], service)
    assert err.value.code == "item_not_granted" and err.value.details["items"] == ["出生日期"]


def test_an_approval_can_only_narrow(session, city, application, people):
    request = submit(session, city, application, people, items=["公民身份号码", "姓名"])
    with pytest.raises(ValidationFailed) as err:
        approve(
            session, city, request, items=["姓名", "出生日期"], operations=["search"], unmasked_items=["公民身份号码"],
            valid_to=request.valid_to + timedelta(days=1),
        )  # fmt: skip
    assert codes(err) == {
        "item_not_requested",
        "operation_not_requested",
        "unmasked_item_not_granted",
        "invalid_period",
    }
    assert request.status == RequestStatus.PENDING


def test_a_rejection_needs_a_reason(session, city, application, people):
    request = submit(session, city, application, people)
    with pytest.raises(ValidationFailed) as err:
        requests.decide(session, city.police_officer, request.id, DecisionIn(decision="reject", reason=" "))
    assert err.value.code == "reason_required" and request.status == RequestStatus.PENDING
    requests.decide(
        session, city.police_officer, request.id, DecisionIn(decision="reject", reason="超出法定职责")
    )
    assert request.status == RequestStatus.REJECTED and request.decisions[-1].reason == "超出法定职责"
    with pytest.raises(Conflict) as conflict:
        approve(session, city, request)
    assert conflict.value.code == "request_not_pending"


def test_only_the_providers_data_officer_decides(session, city, application, people):
    request = submit(session, city, application, people)
    for outsider in (city.market_officer, city.clerk, city.auditor):
        with pytest.raises(PermissionDenied) as err:
            requests.decide(session, outsider, request.id, DecisionIn(decision="approve"))
        assert err.value.code == "not_provider"
    assert request.status == RequestStatus.PENDING


def test_requests_only_for_own_departments_applications(session, city, application, people):
    with pytest.raises(PermissionDenied) as err:
        requests.submit_request(
            session, city.police_officer, settings_with(), request_in(application, people)
        )
    assert err.value.code == "not_own_application"


def test_overdue_requests_are_flagged_and_listed_for_the_provider(session, city, application, people):
    late = submit(session, city, application, people)
    on_time = submit(session, city, application, people, now=BEFORE_NATIONAL_DAY + timedelta(days=20))
    after_due = late.due_at + timedelta(seconds=1)
    assert late.is_overdue(after_due) and not on_time.is_overdue(after_due)
    assert not late.is_overdue(late.due_at)
    inbox = requests.list_requests(session, city.police_officer, "inbox", overdue_only=True, now=after_due)
    assert inbox == [late]
    assert requests.overdue_requests(session, after_due, city.police.id) == [late]
    assert requests.overdue_requests(session, after_due, city.market.id) == []
    assert requests.list_requests(session, city.market_officer, "inbox") == []
    assert set(requests.list_requests(session, city.market_officer, "filed")) == {late, on_time}
    approve(session, city, late)
    assert requests.overdue_requests(session, after_due) == []


def test_the_requester_escalates_a_rejection_and_the_authority_decides_finally(
    session, city, application, people
):
    request = submit(session, city, application, people)
    requests.decide(session, city.police_officer, request.id, DecisionIn(decision="reject", reason="无依据"))
    with pytest.raises(ValidationFailed):
        requests.escalate(session, city.market_officer, request.id, "")
    requests.escalate(session, city.market_officer, request.id, "依据《优化营商环境条例》应予共享")
    assert request.status == RequestStatus.ESCALATED
    with pytest.raises(PermissionDenied) as err:
        requests.arbitrate(
            session, city.police_officer, request.id, DecisionIn(decision="reject", reason="x")
        )
    assert err.value.code == "authority_only"
    final = DecisionIn(decision="approve", items=["公民身份号码", "姓名"], reason="依条例应予共享")
    requests.arbitrate(session, city.admin, request.id, final)
    grant = session.get(grants.Grant, request.grant_id)
    assert request.status == RequestStatus.APPROVED and grant.items == ["公民身份号码", "姓名"]
    assert [d.decision for d in request.decisions][-2:] == [
        DecisionKind.ESCALATED,
        DecisionKind.FINAL_APPROVED,
    ]
    assert request.decisions[-1].actor_id == city.admin.id
    for side in (city.market_officer, city.police_officer):
        with pytest.raises(Conflict) as conflict:
            requests.escalate(session, side, request.id, "再议")
        assert conflict.value.code == "decision_final"


def test_the_provider_escalates_a_pending_request_and_the_authority_refuses(
    session, city, application, people
):
    request = submit(session, city, application, people)
    requests.escalate(session, city.police_officer, request.id, "申请用途超出事项范围，请协调")
    with pytest.raises(Conflict) as conflict:
        approve(session, city, request)
    assert conflict.value.code == "request_not_pending"
    with pytest.raises(ValidationFailed):
        requests.arbitrate(session, city.admin, request.id, DecisionIn(decision="reject"))
    requests.arbitrate(session, city.admin, request.id, DecisionIn(decision="reject", reason="用途不符"))
    assert (
        request.status == RequestStatus.REJECTED
        and request.decisions[-1].decision == DecisionKind.FINAL_REJECTED
    )
    with pytest.raises(Conflict) as conflict:
        requests.arbitrate(session, city.admin, request.id, DecisionIn(decision="approve"))
    assert conflict.value.code == "not_escalated"


def test_only_the_two_parties_escalate(session, city, application, people):
    request = submit(session, city, application, people)
    for outsider in (city.clerk, city.auditor, city.admin):
        with pytest.raises(PermissionDenied) as err:
            requests.escalate(session, outsider, request.id, "协调")
        assert err.value.code == "not_party"


def test_re_requesting_does_not_undo_a_suspension_or_a_revocation(session, city, application):
    open_people = publish_people(session, city, sharing="unconditional")
    first = submit(session, city, application, open_people)
    grants.change_grant(session, city.police_officer, first.grant_id, "suspend", "调用异常")
    with pytest.raises(Conflict) as err:
        submit(session, city, application, open_people)
    assert err.value.code == "grant_suspended"
    grants.change_grant(session, city.police_officer, first.grant_id, "revoke", "违规使用")
    again = submit(session, city, application, open_people)
    assert again.status == RequestStatus.PENDING and again.grant_id is None  # reviewed, not auto-granted
    assert again.stage["name"] == "provider"
