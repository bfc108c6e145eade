"""The data exchange use cases without HTTP (govshare.exchange.query), as another transport would call them."""

from __future__ import annotations

import pytest

from govshare.core.errors import PermissionDenied
from govshare.exchange import query
from govshare.exchange.ratelimit import InProcessLimiter
from tests.integration.data_exchange_support import (
    grant,
    in_process_settings,
    last_event,
    market_registration,
    population,
)
from tests.integration.test_data_load import pid


def call(application, **overrides):
    return query.Call(**({"application": application, "case_id": "SZ-1", "operator": "cli", "service_item": None,
                          "request_id": "r-1"} | overrides))  # fmt: skip


def test_lookup_without_http_in_the_session_that_published_the_resource(session, city):
    people = population(session, city)  # its subject_key_type is still the str it was created with
    application, _ = market_registration(session, city)
    grant(session, city, application, people, unmasked=("姓名",))
    answer = query.lookup(
        session, in_process_settings(), InProcessLimiter(), call(application), people.code, pid(2)
    )
    assert answer.values["姓名"] == "李四" and answer.provenance.department_name == "市公安局"
    event = last_event(session)
    assert (event.operation, event.outcome, event.operator, event.subject_key_type) == (
        "lookup", "allowed", "cli", "person_id",
    )  # fmt: skip


def test_a_refusal_without_http_is_audited_and_raised(session, city):
    people = population(session, city)
    application, _ = market_registration(session, city)
    with pytest.raises(PermissionDenied) as refused:
        query.lookup(
            session, in_process_settings(), InProcessLimiter(), call(application), people.code, pid(2)
        )
    assert refused.value.code == "no_grant"
    assert (last_event(session).outcome, last_event(session).refusal_code) == ("refused", "no_grant")


def test_the_key_check_is_compiled_once_per_resource_shape_and_day(session, city):
    people = population(session, city, count=1)
    keys = [i for i in people.items if i.is_key]
    assert query.normaliser_for(people, keys) is query.normaliser_for(people, keys)
