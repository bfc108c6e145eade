"""foundation: departments, users, tokens, catalog

Revision ID: 0001
Revises: 
Create Date: 2026-12-04 15:34:13.906064
"""
import sqlalchemy as sa
from alembic import op

import govshare.core.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_code_sequence',
    sa.Column('prefix', sa.String(length=20), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_catalog_code_sequence'))
    )
    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Enum('city', 'district', name='department_level', native_enum=False, length=32), nullable=False),
    sa.Column('division_code', sa.String(length=6), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['department.id'], name=op.f('fk_department_parent_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('code', name=op.f('uq_department_code')),
    sa.UniqueConstraint('name', name=op.f('uq_department_name'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('authority', 'data_officer', 'app_operator', 'clerk', 'auditor', name='user_role', native_enum=False, length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_app_user_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('catalog_resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('classification_code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('summary', sa.String(length=256), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('sharing_type', sa.Enum('unconditional', 'conditional', 'none', name='sharing_type', native_enum=False, length=32), nullable=False),
    sa.Column('sharing_condition', sa.Text(), nullable=False),
    sa.Column('sharing_methods', sa.JSON(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('open_to_public', sa.Boolean(), nullable=False),
    sa.Column('open_condition', sa.Text(), nullable=False),
    sa.Column('update_cycle', sa.String(length=16), nullable=False),
    sa.Column('publish_date', sa.Date(), nullable=True),
    sa.Column('related_codes', sa.JSON(), nullable=False),
    sa.Column('subject_key_type', sa.Enum('person_id', 'credit_code', 'house_code', 'certificate_id', 'none', name='subject_key_type', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'published', 'retired', name='resource_status', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('contact_email', sa.String(length=100), nullable=False),
    sa.Column('created_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['department.id'], name=op.f('fk_catalog_resource_provider_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_resource')),
    sa.UniqueConstraint('code', name=op.f('uq_catalog_resource_code'))
    )
    with op.batch_alter_table('catalog_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_resource_classification_code'), ['classification_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_resource_open_to_public'), ['open_to_public'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_resource_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_resource_sharing_type'), ['sharing_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_resource_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_resource_update_cycle'), ['update_cycle'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('catalog_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('data_type', sa.String(length=1), nullable=False),
    sa.Column('length', sa.Integer(), nullable=True),
    sa.Column('is_key', sa.Boolean(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('sensitivity', sa.Integer(), nullable=False),
    sa.Column('masking_rule', sa.String(length=16), nullable=False),
    sa.Column('searchable', sa.Boolean(), nullable=False),
    sa.Column('shareable', sa.Boolean(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('is_basic', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['catalog_resource.id'], name=op.f('fk_catalog_item_resource_id_catalog_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_item')),
    sa.UniqueConstraint('resource_id', 'name', name='uq_catalog_item_resource_name')
    )
    op.create_table('catalog_negative_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=50), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('basic_item', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'rejected', 'superseded', name='review_status', native_enum=False, length=32), nullable=False),
    sa.Column('resource_version', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', govshare.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_catalog_negative_entry_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['resource_id'], ['catalog_resource.id'], name=op.f('fk_catalog_negative_entry_resource_id_catalog_resource'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['app_user.id'], name=op.f('fk_catalog_negative_entry_submitted_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_negative_entry'))
    )
    with op.batch_alter_table('catalog_negative_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_negative_entry_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_negative_entry_status'), ['status'], unique=False)

    op.create_table('catalog_resource_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', govshare.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_catalog_resource_version_actor_id_app_user')),
    sa.ForeignKeyConstraint(['resource_id'], ['catalog_resource.id'], name=op.f('fk_catalog_resource_version_resource_id_catalog_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_resource_version')),
    sa.UniqueConstraint('resource_id', 'version', name='uq_catalog_resource_version')
    )
    op.create_table('catalog_search_term',
    sa.Column('term', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['catalog_resource.id'], name=op.f('fk_catalog_search_term_resource_id_catalog_resource'), ondelete='CASCADE'),
    # Postings stored in key order (SQLite WITHOUT ROWID; PostgreSQL INCLUDE for index-only scans).
    sa.PrimaryKeyConstraint('term', 'resource_id', name=op.f('pk_catalog_search_term'), postgresql_include=['weight']),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('catalog_search_term', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_search_term_resource', ['resource_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('catalog_search_term', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_search_term_resource')

    op.drop_table('catalog_search_term')
    op.drop_table('catalog_resource_version')
    with op.batch_alter_table('catalog_negative_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_negative_entry_status'))
        batch_op.drop_index(batch_op.f('ix_catalog_negative_entry_resource_id'))

    op.drop_table('catalog_negative_entry')
    op.drop_table('catalog_item')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('catalog_resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_resource_update_cycle'))
        batch_op.drop_index(batch_op.f('ix_catalog_resource_status'))
        batch_op.drop_index(batch_op.f('ix_catalog_resource_sharing_type'))
        batch_op.drop_index(batch_op.f('ix_catalog_resource_provider_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_resource_open_to_public'))
        batch_op.drop_index(batch_op.f('ix_catalog_resource_classification_code'))

    op.drop_table('catalog_resource')
    op.drop_table('app_user')
    op.drop_table('department')
    op.drop_table('catalog_code_sequence')
