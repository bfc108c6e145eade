"""data_record, data_record_history, data_change: no per-row foreign-key checks; record keys in byte order

The row-per-record tables keep their resource and batch ids as plain integers (integrity by
construction, see govshare/data/models.py): on PostgreSQL each foreign key is a trigger fired for every
inserted row and they halved the load's COPY throughput. On PostgreSQL record keys compare with the
"C" collation (memcmp), as identifiers should.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# (table, constraint, local column, referred table)
FOREIGN_KEYS = [
    ('data_change', 'fk_data_change_batch_id_data_batch', 'batch_id', 'data_batch'),
    ('data_change', 'fk_data_change_resource_id_catalog_resource', 'resource_id', 'catalog_resource'),
    ('data_record', 'fk_data_record_batch_id_data_batch', 'batch_id', 'data_batch'),
    ('data_record', 'fk_data_record_resource_id_catalog_resource', 'resource_id', 'catalog_resource'),
    ('data_record_history', 'fk_data_record_history_batch_id_data_batch', 'batch_id', 'data_batch'),
    ('data_record_history', 'fk_data_record_history_ended_by_batch_id_data_batch', 'ended_by_batch_id', 'data_batch'),
    ('data_record_history', 'fk_data_record_history_resource_id_catalog_resource', 'resource_id', 'catalog_resource'),
]
KEYED_TABLES = ['data_record', 'data_record_history']


def _collate(collation):
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's default BINARY collation already is byte order
    for table in KEYED_TABLES:
        op.alter_column(table, 'record_key', type_=sa.String(length=255, collation=collation),
                        existing_nullable=False)


def upgrade():
    for table in dict.fromkeys(t for t, *_ in FOREIGN_KEYS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _, name, *_ in (fk for fk in FOREIGN_KEYS if fk[0] == table):
                batch_op.drop_constraint(name, type_='foreignkey')
    _collate('C')


def downgrade():
    _collate(None)
    for table in dict.fromkeys(t for t, *_ in FOREIGN_KEYS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _, name, column, referred in (fk for fk in FOREIGN_KEYS if fk[0] == table):
                batch_op.create_foreign_key(name, referred, [column], ['id'])
