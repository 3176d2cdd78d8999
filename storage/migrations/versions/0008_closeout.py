"""Close-out: the request's `closeout` phase (isolate, retain, destroy the DTS task) and the audit's `resource`

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closeout', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_migration_request_closeout'), ['closeout'], unique=False)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resource', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('resource')
    with op.batch_alter_table('migration_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_migration_request_closeout'))
        batch_op.drop_column('closeout')
