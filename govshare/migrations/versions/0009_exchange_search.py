"""exchange search: the term index on searchable items (data_search_term) and which items it covers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00

``data_search_term`` holds one row per (resource, searchable item, value, record), its primary key
being the search; ``data_search_item`` lists the items whose terms are complete. Both start empty:
the terms of records loaded before this revision are built from ``data_record`` by the next load of
their resource, or by its first search (govshare.data.search_index.ensure).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _c(length):
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('data_search_term',
    sa.Column('resource_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item', _c(50), nullable=False),
    sa.Column('value', _c(200), nullable=False),
    sa.Column('record_key', _c(255), nullable=False),
    sa.PrimaryKeyConstraint('resource_id', 'item', 'value', 'record_key', name=op.f('pk_data_search_term')),
    sqlite_with_rowid=False,
    )
    op.create_table('data_search_item',
    sa.Column('resource_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['catalog_resource.id'],
                            name=op.f('fk_data_search_item_resource_id_catalog_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resource_id', 'item', name=op.f('pk_data_search_item'))
    )


def downgrade() -> None:
    op.drop_table('data_search_item')
    op.drop_table('data_search_term')
