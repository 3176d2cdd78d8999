"""state_changed_at gets a server default, so a replica of the previous version can still insert a request

0005 made the column NOT NULL without a default: during a rolling upgrade (README: `dtsbot db upgrade` first,
then the replicas one by one) every replica still on the previous version failed to open any request. Rows such
a replica inserts now take the time of the insert (when they entered `requested`); its later state changes do
not move the column, so /metrics' age in state is approximate until the last old replica is replaced.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 13:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.alter_column('state_changed_at', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
                              existing_nullable=False, server_default=sa.text('CURRENT_TIMESTAMP'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.alter_column('state_changed_at', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
                              existing_nullable=False, server_default=None)
