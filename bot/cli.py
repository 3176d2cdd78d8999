"""The `dtsbot` command: serve, demo, check, manifest, db, requests, report, audit, sweep and the local sandboxes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import yaml

from bot import records_cli
from bot.scenarios import SCENARIOS
from core.config import ConfigError, load_settings
from core.i18n import LANGUAGES


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime import StartupError, build_runtime
    from core.logs import configure_logging
    from core.sandbox_secrets import sandbox_secret_problems

    settings = load_settings(args.config)
    refused = sandbox_secret_problems(settings)
    if refused:
        for problem in refused:
            print(f"dtsbot: cannot start: {problem}", file=sys.stderr)
        return 1
    configure_logging(settings)
    try:
        runtime = build_runtime(settings, migrate_schema=not args.no_migrate)
        runtime.start()
    except StartupError as error:
        print(f"dtsbot: cannot start: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    runtime.stop()
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from bot.manifest import manifest

    settings = load_settings(args.config)
    print(yaml.safe_dump(manifest(settings, args.url), sort_keys=False, allow_unicode=True), end="")
    return 0


def _demo(args: argparse.Namespace) -> int:
    # Imported here: the demo runs the sandboxes, which no production code path imports.
    from pathlib import Path

    from bot.demo import APP_YAML, SPEED, run

    try:
        return run(args.scenario, keep_running=args.keep_running, timeout=args.timeout, language=args.language,
                   speed=args.speed or SPEED, config=Path(args.config) if args.config else APP_YAML)
    except KeyboardInterrupt:
        print("dtsbot demo: interrupted", file=sys.stderr)
        return 130


def _check(args: argparse.Namespace) -> int:
    from bot.check import table
    from bot.check_operations import check
    from bot.notifier import web_client
    from core.cloud import CloudClients

    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"✗ {args.config}: invalid configuration")
        for problem in error.problems:
            print(f"  {problem}")
        return 2
    print(f"✓ {args.config}: configuration is valid ({len(settings.accounts)} accounts)")
    items = check(settings, CloudClients(settings, max_attempts=2, timeout=10), web_client(settings))
    print("\n".join(table(items)))
    return 0 if all(item.ready for item in items) else 1


def _db(args: argparse.Namespace) -> int:
    from bot.runtime import StartupError, open_database
    from storage.db import current_revision, head_revision, migrate

    settings = load_settings(args.config)
    try:
        db = open_database(settings.storage.url)
        if args.db_command == "upgrade":
            before = current_revision(db)
            migrate(db)
            print(f"schema upgraded from {before or 'nothing'} to {current_revision(db)}")
        else:
            current, head = current_revision(db), head_revision()
            print(f"schema at {current or 'nothing'}; this version needs {head}"
                  + ("" if current == head else " (run `dtsbot db upgrade`)"))
            if current != head:
                return 1
    except StartupError as error:
        print(f"dtsbot db: {error}", file=sys.stderr)
        return 1
    return 0


def _requests(args: argparse.Namespace) -> int:
    from bot import operator

    opened = records_cli.open_checked(args, "requests")
    if opened is None:
        return 1
    settings, db = opened
    if args.requests_command == "list":
        print("\n".join(operator.list_requests(db, args.all)))
        return 0
    if args.requests_command == "show":
        lines = operator.show_request(db, args.id)
        print("\n".join(lines) if lines else f"no request {args.id}")
        return 0 if lines else 1
    if not args.force:
        print("dtsbot requests cancel: add --force: an operator is no approver, so --force skips the permission "
              "check (who may cancel); the workflow still stops a running DTS task before it revokes the access",
              file=sys.stderr)
        return 2
    done, message = operator.force_cancel(db, settings, args.id, operator.operator_actor(args.as_name))
    print(message)
    return 0 if done else 1


def _sandbox(args: argparse.Namespace) -> int:
    # Imported here: the sandboxes are for demos and tests, never on a production code path.
    if args.service == "tencentcloud":
        from sandbox.tencentcloud.server import serve as serve_tencentcloud
        from sandbox.tencentcloud.world import WorldError

        try:
            serve_tencentcloud(args.port, args.world, args.speed)
        except WorldError as error:
            print(f"dtsbot sandbox: --world {args.world}: {error}", file=sys.stderr)
            return 2
    else:
        from sandbox.slack.emulator import serve as serve_slack

        serve_slack(args.port)
    return 0


def _version() -> str:
    """The installed package's version (pyproject.toml), or "unknown" when run from a tree not installed."""
    try:
        return version("dtsbot")
    except PackageNotFoundError:
        return "unknown"


def _config_option(parser: argparse.ArgumentParser, default: str | None = "app.yaml") -> None:
    parser.add_argument("--config", default=default,
                        help="path to app.yaml (default: %(default)s)" if default else
                        "path to app.yaml (default: the shipped one, pointed at the sandboxes)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (kept separate so tests can read the help)."""
    parser = argparse.ArgumentParser(
        prog="dtsbot", description="Slack bot for cross-account Tencent Cloud DTS migrations."
    )
    parser.add_argument("--version", action="version", version=f"dtsbot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (HTTP or Socket Mode) and its scheduler")
    _config_option(serve)
    serve.add_argument("--no-migrate", action="store_true",
                       help="do not migrate the schema; refuse to start unless it is at this version's head (rolling "
                            "upgrades: run `dtsbot db upgrade` first)")
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="play a full cross-account migration against the local sandboxes")
    _config_option(demo, default=None)
    demo.add_argument("--scenario", default="happy",
                      choices=list(SCENARIOS),
                      help="the happy path, or one of the guide's FAQ failures (default: %(default)s)")
    demo.add_argument("--keep-running", action="store_true",
                      help="leave the sandboxes and the bot up afterwards and take typed commands")
    demo.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    demo.add_argument("--speed", type=float, help="sandbox clock speed factor (default: 10)")
    demo.add_argument("--language", default="en", choices=LANGUAGES,
                      help="the channel's language (slack.language); the people read it too, except the stranger, "
                           "whose Slack is in English (default: %(default)s)")
    demo.set_defaults(run=_demo)

    check = commands.add_parser("check", help="validate the configuration and the accounts it names")
    _config_option(check)
    check.set_defaults(run=_check)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest for the configured mode")
    _config_option(manifest)
    manifest.add_argument("--url", default="https://dtsbot.example.com",
                          help="public base URL Slack posts to in HTTP mode (default: %(default)s)")
    manifest.set_defaults(run=_manifest)

    db = commands.add_parser("db", help="the database schema (Alembic): upgrade it, or show where it is")
    db.add_argument("db_command", choices=["upgrade", "current"])
    _config_option(db)
    db.set_defaults(run=_db)

    requests = commands.add_parser("requests", help="an operator's view: list, show or force-cancel requests")
    request_commands = requests.add_subparsers(dest="requests_command", required=True, metavar="list|show|cancel")
    listing = request_commands.add_parser("list", help="unfinished requests, newest first")
    listing.add_argument("--all", action="store_true", help="finished ones too (the last 50)")
    show = request_commands.add_parser("show", help="one request: fields, facts, audit trail (no secrets)")
    show.add_argument("id")
    cancel = request_commands.add_parser("cancel", help="cancel through the workflow as an operator")
    cancel.add_argument("id")
    cancel.add_argument("--force", action="store_true",
                        help="required: skip the permission check (who may cancel); nothing else is skipped")
    cancel.add_argument("--as", dest="as_name", help="the operator's name in the audit (default: the OS user)")
    for command in (listing, show, cancel):
        _config_option(command)
    requests.set_defaults(run=_requests)

    records_cli.register(commands, _config_option)

    sandbox = commands.add_parser("sandbox", help="run a local Tencent Cloud or Slack emulator in the foreground")
    sandbox.add_argument("service", choices=["tencentcloud", "slack"])
    sandbox.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    sandbox.add_argument("--world", help="tencentcloud: a world file (YAML/JSON; see sandbox/tencentcloud/world.py; "
                                         "default: the world of the shipped app.yaml)")
    sandbox.add_argument("--speed", type=float, default=1.0, help="tencentcloud: clock speed factor")
    sandbox.set_defaults(run=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"dtsbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
