"""the drain's claim by (status, id): the oldest received events without reading the others

Revision ID: 5e58928bcd2a
Revises: 7c1e5a3d9b42
Create Date: 2026-12-04 12:55:00

The claim asks for the oldest received events by id. The index on (status, received_at)
cannot give them in id order, so PostgreSQL walked the primary key from the first event ever
stored and filtered out every processed one: 2.1 ms per claim with 20,000 processed events,
growing with the log. On (status, id) it reads the batch's rows and stops (0.05 ms).
The sweeper and the metrics (received or processing events, by age) read the few rows in
those states through it as well.

On PostgreSQL the index is built without blocking writes (CONCURRENTLY, outside the
migration's transaction), so a deployment with a long event log keeps taking events.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e58928bcd2a'
down_revision = '7c1e5a3d9b42'
branch_labels = None
depends_on = None


def _create(name, columns):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index(name, 'event_logs', columns, postgresql_concurrently=True)
    else:
        op.create_index(name, 'event_logs', columns)


def _drop(name):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(name, table_name='event_logs', postgresql_concurrently=True)
    else:
        op.drop_index(name, table_name='event_logs')


def upgrade():
    _create('ix_event_logs_status_id', ['status', 'id'])
    _drop('ix_event_logs_status_received')


def downgrade():
    _create('ix_event_logs_status_received', ['status', 'received_at'])
    _drop('ix_event_logs_status_id')
