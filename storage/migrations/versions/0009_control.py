"""control: alert episodes (once per episode across restarts and replicas) and per-request snoozes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('alert_episode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('open_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_key'),
    )
    with op.batch_alter_table('alert_episode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_episode_request_id'), ['request_id'], unique=False)
    op.create_table('alert_snooze',
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('by_user', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('request_id'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('alert_snooze')
    with op.batch_alter_table('alert_episode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_episode_request_id'))
    op.drop_table('alert_episode')
