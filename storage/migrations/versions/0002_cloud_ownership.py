"""cloud ownership: which request created, attached or uses which CAM role or policy

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:10:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('cloud_ownership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account_uin', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('policy_id', sa.BigInteger(), nullable=True),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('released_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'relation', 'kind', 'account_uin', 'name', 'holder',
                        name='uq_cloud_ownership')
    )
    with op.batch_alter_table('cloud_ownership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_ownership_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cloud_ownership_name'), ['name'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cloud_ownership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_ownership_name'))
        batch_op.drop_index(batch_op.f('ix_cloud_ownership_request_id'))
    op.drop_table('cloud_ownership')
