"""The cutover window and timed start: request fields `start_at=`, `cutover_at=`, `read_only_target=`

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_at', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('cutover_at', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('read_only_target', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.drop_column('read_only_target')
        batch_op.drop_column('cutover_at')
        batch_op.drop_column('start_at')
