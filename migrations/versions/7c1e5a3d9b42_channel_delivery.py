"""channel delivery: provider message ids, contacts' delivery status

Revision ID: 7c1e5a3d9b42
Revises: e13a6c0a1d2f
Create Date: 2026-11-28 09:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '7c1e5a3d9b42'
down_revision = 'e13a6c0a1d2f'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=191), nullable=True))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_status', _JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('delivery_status')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('provider_message_id')
