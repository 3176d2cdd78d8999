"""A database health probe on its own short-lived connection, bounded in time: can the database take a write?

The engine's pooled connections wait up to 30 s on a SQLite lock (storage/db.py), right for work, far too
long for /healthz; the probe waits `timeout` seconds at most, with the same driver.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.engine import make_url


def probe(url: str, timeout: float) -> str | None:
    """None when the database at `url` answers and takes a write lock within `timeout`; else the reason."""
    parsed = make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            with sqlite3.connect(parsed.database or ":memory:", timeout=timeout, isolation_level=None) as db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            db.close()
        else:
            conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(conninfo, connect_timeout=max(1, int(timeout)),
                                 options=f"-c statement_timeout={int(timeout * 1000)}") as pg:
                pg.execute("SELECT 1")
    except (sqlite3.Error, psycopg.Error, OSError) as error:
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"[:200]
    return None
