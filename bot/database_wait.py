"""`python -m bot.database_wait --config app.yaml`: wait until the configured database answers (the container
entrypoint runs it before `dtsbot serve`, so a replica started with its database does not exit and restart)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from sqlalchemy.engine import make_url

from core.config import ConfigError, load_settings
from storage.probe import probe

PROBE_SECONDS = 2.0
PAUSE_SECONDS = 1.0


def wait(url: str, timeout: float) -> str | None:
    """None once the database at `url` answers; the last reason when it has not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        problem = probe(url, PROBE_SECONDS)
        if problem is None or time.monotonic() + PAUSE_SECONDS > deadline:
            return problem
        time.sleep(PAUSE_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    """0 when the database answers in time, 1 when it does not, 2 for an unusable configuration."""
    parser = argparse.ArgumentParser(prog="python -m bot.database_wait", description=__doc__)
    parser.add_argument("--config", default="app.yaml")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        url = load_settings(args.config).storage.url
    except ConfigError as error:
        print(f"dtsbot: {error}", file=sys.stderr)
        return 2
    problem = wait(url, args.timeout)
    if problem is not None:
        shown = make_url(url).render_as_string(hide_password=True)
        print(f"dtsbot: storage.url {shown}: no answer within {args.timeout:g} s: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
