"""Alembic environment: runs on the connection handed over by storage.db.migrate (or a URL for the CLI)."""

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url", "")).connect() as fresh:
        run_migrations(fresh)
        fresh.commit()
