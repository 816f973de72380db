"""a contact's runs by state: (contact_id, status) instead of (contact_id) and (status)

Revision ID: a5eca2d225d1
Revises: 5e58928bcd2a
Create Date: 2026-12-04 13:00:00

Whether a contact has a waiting run (every drain batch asks it for its contacts; goals and
frequency caps too) was answered by ANDing two bitmaps: all the contact's runs and all the
waiting runs of everyone, both growing without bound. On (contact_id, status) it reads the
contact's waiting runs only. The index on contact_id alone goes (the new one leads with it),
and so does the one on status alone (those on (status, lease_expires_at) and (status,
resume_at) lead with it): one index fewer to write for every run. Built and dropped
CONCURRENTLY on PostgreSQL, as in 5e58928bcd2a.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a5eca2d225d1'
down_revision = '5e58928bcd2a'
branch_labels = None
depends_on = None

TABLE = 'workflow_executions'


def _create(name, columns):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index(name, TABLE, columns, postgresql_concurrently=True)
    else:
        op.create_index(name, TABLE, columns)


def _drop(name):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(name, table_name=TABLE, postgresql_concurrently=True)
    else:
        op.drop_index(name, table_name=TABLE)


def upgrade():
    _create('ix_executions_contact_status', ['contact_id', 'status'])
    _drop('ix_workflow_executions_contact_id')
    _drop('ix_workflow_executions_status')


def downgrade():
    _create('ix_workflow_executions_status', ['status'])
    _create('ix_workflow_executions_contact_id', ['contact_id'])
    _drop('ix_executions_contact_status')
