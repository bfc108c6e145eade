"""exchange: the generation stamp that tells the data API's in-process caches when to reload

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:50:00

One row in ``exchange_generation``. Every INSERT, UPDATE or DELETE of a row the data API caches
(applications, token signing keys, grants, resources, items, departments) sets its ``stamp`` to a new
random 63-bit value, in the writer's own transaction, by trigger — so no code path can forget it.
A data call reads the stamp in the same statement as the record: an unchanged stamp means every
cached row is exactly what the database holds, a changed one makes the process reload them, so a
suspended grant or a disabled application refuses at the next call. The stamp is random, not a
counter, so a rolled-back change that restores the old stamp also restores exactly the old rows,
and no two states ever share a stamp.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

WATCHED = ('exchange_application', 'exchange_signing_key', 'exchange_grant', 'catalog_resource',
           'catalog_item', 'department')


def upgrade() -> None:
    op.create_table('exchange_generation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_generation'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("INSERT INTO exchange_generation (id, stamp) VALUES (1, (random() * 9.2e18)::bigint)")
        op.execute(
            "CREATE FUNCTION exchange_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE exchange_generation SET stamp = (random() * 9.2e18)::bigint WHERE id = 1; "
            "RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(f'CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE ON {table} '
                       'FOR EACH STATEMENT EXECUTE FUNCTION exchange_generation_bump()')
    else:
        op.execute("INSERT INTO exchange_generation (id, stamp) VALUES (1, random())")
        for table in WATCHED:
            for action in ('INSERT', 'UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_generation_{action.lower()} AFTER {action} ON {table} "
                           "BEGIN UPDATE exchange_generation SET stamp = random() WHERE id = 1; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f'DROP TRIGGER {table}_generation ON {table}')
        op.execute('DROP FUNCTION exchange_generation_bump()')
    else:
        for table in WATCHED:
            for action in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER {table}_generation_{action}')
    op.drop_table('exchange_generation')
