"""journey controls: index runs by contact

The goals check looks up a contact's waiting runs on every event of that contact; explain and
the contact pages list a contact's runs. Without this index each did a scan of the waiting /
all runs.

Revision ID: e13a6c0a1d2f
Revises: 00d773287b8e
Create Date: 2026-11-28 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e13a6c0a1d2f'
down_revision = '00d773287b8e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_executions_contact_id'), ['contact_id'], unique=False)


def downgrade():
    with op.batch_alter_table('workflow_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_executions_contact_id'))
