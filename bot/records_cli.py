"""`dtsbot report ID`, `dtsbot audit --since DATE` and `dtsbot sweep [--apply]`: the record of what the bot did,
and what it left, for operators and auditors (core/report.py, core/sweep.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from core.config import load_settings


def open_checked(args: argparse.Namespace, command: str) -> tuple[Any, Engine] | None:
    """(settings, database) for an operator command, or None after saying on stderr why the database cannot be
    used (unreachable, or its schema not at this version's head)."""
    from bot.runtime import StartupError, open_database
    from storage.db import current_revision, head_revision

    settings = load_settings(args.config)
    try:
        db = open_database(settings.storage.url)
        if current_revision(db) != head_revision():
            raise StartupError(f"storage.url: the schema is not at {head_revision()}; run `dtsbot db upgrade`")
    except StartupError as error:
        print(f"dtsbot {command}: {error}", file=sys.stderr)
        return None
    return settings, db


def _report(args: argparse.Namespace) -> int:
    from core import report
    from storage.db import session_scope

    opened = open_checked(args, "report")
    if opened is None:
        return 1
    with session_scope(opened[1]) as session:
        document = report.build(session, args.id)
    if document is None:
        print(f"dtsbot report: no request {args.id}", file=sys.stderr)
        return 1
    sys.stdout.write(report.render(document, args.format))
    return 0


def since_date(text: str) -> datetime:
    """`--since`: an ISO date or time (UTC when it names no zone)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _audit(args: argparse.Namespace) -> int:
    from core import report
    from storage.db import session_scope

    opened = open_checked(args, "audit")
    if opened is None:
        return 1
    with session_scope(opened[1]) as session:
        sys.stdout.write(report.audit_export(session, args.since, args.format))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from bot.sweeper import sweep
    from core.cloud import CloudClients
    from core.engine import record_cloud_call

    opened = open_checked(args, "sweep")
    if opened is None:
        return 1
    settings, db = opened
    done = sweep(db, CloudClients(settings, record_cloud_call), apply=args.apply)
    results = done.results
    for swept in results:
        print(swept.line())
    for refused in done.refused:
        print(f"not listed (the keys may not): {refused}")
    leftovers = [s for s in results if s.verdict.leftover]
    print(f"{len(results)} tagged, {len(leftovers)} leftover" + ("" if args.apply or not leftovers else
                                                                  " (add --apply to remove them)"))
    return 0


def register(commands: Any, config_option: Any) -> None:
    """Add the record commands to the `dtsbot` parser's subcommands."""
    from core.report import FORMATS

    report = commands.add_parser("report", help="one request's migration report: plan, approvals, cloud changes "
                                                "with RequestIds, verification, cutover, close-out, revocation")
    report.add_argument("id")
    report.add_argument("--format", default="md", choices=FORMATS, help="(default: %(default)s)")
    config_option(report)
    report.set_defaults(run=_report)

    audit = commands.add_parser("audit", help="export the audit log since a date")
    audit.add_argument("--since", required=True, type=since_date, help="YYYY-MM-DD or an ISO time (UTC by default)")
    audit.add_argument("--format", default="json", choices=("json", "csv"), help="(default: %(default)s)")
    config_option(audit)
    audit.set_defaults(run=_audit)

    sweep = commands.add_parser("sweep", help="list what the bot tagged whose request is finished or unknown; "
                                              "--apply removes what the tag and ownership rules allow")
    sweep.add_argument("--apply", action="store_true", help="remove the leftovers (default: only report them)")
    config_option(sweep)
    sweep.set_defaults(run=_sweep)
