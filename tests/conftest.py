"""Shared fixtures: a migrated database on SQLite and, when DTSBOT_TEST_POSTGRES_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot import user_locale
from core import i18n
from storage.db import make_engine, migrate

POSTGRES_URL = os.environ.get("DTSBOT_TEST_POSTGRES_URL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each pytest-xdist worker starts with its share of the slow cases, so they do not form the tail.

    scripts/test uses `--dist worksteal`, which hands worker k the k-th of as many contiguous shares of the
    collection as there are workers (and later steals only from the end of a queue): each share is led by every
    W-th slow case and filled up with the others, in the collection's order. Without xdist: the slow cases first.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    slow = [item for item in items if item.get_closest_marker("slow")]
    others = iter([item for item in items if not item.get_closest_marker("slow")])
    ordered: list[pytest.Item] = []
    for k in range(workers):
        size = (len(items) - len(ordered)) // (workers - k)  # as xdist's WorkStealingScheduling splits
        share = slow[k::workers]
        ordered += share + [item for _, item in zip(range(size - len(share)), others)]
    items[:] = ordered + list(others)


@pytest.fixture(autouse=True)
def english_channel() -> Iterator[None]:
    """Each test starts in an English channel with no remembered Slack locales (a zh-CN bot sets its language
    when it is wired; the next test must not inherit it)."""
    i18n.set_channel_language(i18n.ENGLISH)
    user_locale.forget()
    yield
    i18n.set_channel_language(i18n.ENGLISH)
    user_locale.forget()


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("DTSBOT_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    name = f"dtsbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file in the test's own directory."""
    return f"sqlite:///{tmp_path / 'dtsbot.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()
