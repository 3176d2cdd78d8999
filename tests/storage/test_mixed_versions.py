"""The README's rule for a rolling upgrade: "migrations only add (tables, nullable columns, indexes), so a replica
of the previous version keeps working on the newer schema". A replica of an older version writes rows with only
the columns its own revision knows; every column added since must therefore take them (nullable, or a server
default), and nothing an older revision has may disappear. Checked for every older revision against head, on
both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from storage.db import MIGRATIONS, make_engine, migrate

Columns = dict[str, dict[str, dict]]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def older_revisions() -> list[str]:
    """Every revision but the head, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))][:-1]


def columns(engine: Engine) -> Columns:
    found = inspect(engine)
    return {table: {c["name"]: c for c in found.get_columns(table)}
            for table in found.get_table_names() if table != "alembic_version"}


@pytest.fixture
def fresh(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def upgrade_to(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.mark.parametrize("old", older_revisions())
def test_a_replica_of_an_older_revision_can_still_write_on_the_head_schema(fresh, old):
    upgrade_to(fresh, old)
    before = columns(fresh)
    migrate(fresh)
    after = columns(fresh)
    for table, old_columns in before.items():
        assert table in after, f"{table} disappeared after {old}"
        assert set(old_columns) <= set(after[table]), f"{table} lost {set(old_columns) - set(after[table])}"
        for name, column in after[table].items():
            if name not in old_columns:
                assert column["nullable"] or column.get("default") is not None, (
                    f"{table}.{name} (added after {old}) is NOT NULL without a server default: a replica of "
                    f"{old} cannot insert a row during a rolling upgrade")


def test_a_row_inserted_as_revision_0004_inserts_it_is_accepted_by_the_head_schema(fresh):
    """The concrete case: a replica of the version before state_changed_at opens a request."""
    upgrade_to(fresh, "0004")
    migrate(fresh)
    with fresh.begin() as connection:
        connection.execute(text(
            "INSERT INTO migration_request (id, requester, source_account, source_uin, source_region, "
            "source_instance, target_account, target_uin, target_region, target_instance, db_type, role_name, "
            "executor, migrate_type, objects, state, version, revision, attempts, facts, created_at, updated_at) "
            "VALUES ('mr-old004', 'U0REQUESTER', 'a', '1', 'r', 'cdb-a', 'b', '2', 'r', 'cdb-b', 'mysql', 'role', "
            "'root', 'full', 'all', 'requested', 1, 1, 0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        assert connection.execute(text(
            "SELECT state_changed_at IS NOT NULL FROM migration_request WHERE id = 'mr-old004'")).scalar()
