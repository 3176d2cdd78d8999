"""state_changed_at: when a request entered its current state (for /metrics' age in state and the stuck alert)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 11:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: existing rows take their last update as the time they entered their state."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute('UPDATE migration_request SET state_changed_at = updated_at')
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.alter_column('state_changed_at', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
                              nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.drop_column('state_changed_at')
