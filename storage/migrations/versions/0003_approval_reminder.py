"""approval reminders: the one DM each side's approvers get before a request expires

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:10:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('approval_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['migration_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'side', name='uq_approval_reminder_side')
    )
    with op.batch_alter_table('approval_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_reminder_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('approval_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_reminder_request_id'))
    op.drop_table('approval_reminder')
