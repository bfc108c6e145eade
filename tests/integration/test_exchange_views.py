"""The generation stamp behind the data API's cached views: every table the views read renews it in
the writer's transaction (migration 0008's triggers), so a migration that recreates one of those
tables and loses its triggers — SQLite drops them with the table — fails here, not in production."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govshare.exchange.models import Generation
from govshare.exchange.views import CACHE
from tests.factories import City
from tests.integration.data_exchange_support import grant, market_registration, population

WATCHED = ["exchange_application", "exchange_signing_key", "exchange_grant", "catalog_resource",
           "catalog_item", "department"]  # fmt: skip


def stamp(session: Session) -> int:
    value = session.scalar(select(Generation.stamp).where(Generation.id == 1))
    assert value is not None
    return value


@pytest.mark.parametrize("table", WATCHED)
def test_any_update_of_a_watched_table_renews_the_stamp(session: Session, city: City, table: str) -> None:
    resource = population(session, city, count=1)
    grant(session, city, market_registration(session, city)[0], resource)
    if table == "exchange_signing_key":
        session.execute(text("INSERT INTO exchange_signing_key (kid, public_key, private_key_encrypted, "
                             "created_at) VALUES ('k-test', 'x', 'y', CURRENT_TIMESTAMP)"))  # fmt: skip
    before = stamp(session)
    session.execute(text(f"UPDATE {table} SET id = id"))
    assert stamp(session) != before


def test_a_rolled_back_change_restores_the_stamp_and_the_views_it_stood_for(
    session: Session, city: City
) -> None:
    before = stamp(session)
    views = CACHE.for_session(session)
    with session.begin_nested() as savepoint:
        session.execute(text("UPDATE department SET name = name || '（改）'"))
        assert stamp(session) != before
        savepoint.rollback()
    assert stamp(session) == before
    assert CACHE.for_session(session) is views  # the views of before the change serve again


def test_reading_records_does_not_renew_the_stamp(session: Session, city: City) -> None:
    population(session, city, count=2)
    before = stamp(session)
    session.execute(text("SELECT count(*) FROM data_record")).scalar()
    session.execute(text("UPDATE data_record SET version = version"))  # records are not in the views
    assert stamp(session) == before
