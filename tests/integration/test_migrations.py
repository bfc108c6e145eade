"""Models and migrations must agree: a model change without a migration fails here."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from govshare.models import metadata


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models differ from migrations; run alembic revision --autogenerate: {diff}"


def test_database_is_at_head_revision(engine):
    from alembic.script import ScriptDirectory

    from govshare.core.migrate import alembic_config, current

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current(engine) == head
