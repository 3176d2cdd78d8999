"""The `dtsbot` command: serve, demo, check, manifest and the local sandboxes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import yaml

from bot.scenarios import SCENARIOS
from core.config import ConfigError, load_settings
from core.i18n import LANGUAGES


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime import StartupError, build_runtime
    from core.logs import configure_logging

    settings = load_settings(args.config)
    configure_logging(settings)
    try:
        runtime = build_runtime(settings)
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
    from bot.demo import run

    speed = {"speed": args.speed} if args.speed else {}
    try:
        return run(args.scenario, keep_running=args.keep_running, timeout=args.timeout, language=args.language,
                   **speed)
    except KeyboardInterrupt:
        print("dtsbot demo: interrupted", file=sys.stderr)
        return 130


def _check(args: argparse.Namespace) -> int:
    from bot.check import check, table
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


def _sandbox(args: argparse.Namespace) -> int:
    # Imported here: the sandboxes are for demos and tests, never on a production code path.
    if args.service == "tencentcloud":
        from sandbox.tencentcloud.server import serve as serve_tencentcloud

        serve_tencentcloud(args.port, args.world, args.speed)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (kept separate so tests can read the help)."""
    parser = argparse.ArgumentParser(
        prog="dtsbot", description="Slack bot for cross-account Tencent Cloud DTS migrations."
    )
    parser.add_argument("--version", action="version", version=f"dtsbot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (HTTP or Socket Mode) and its scheduler")
    serve.add_argument("--config", default="app.yaml", help="path to app.yaml (default: %(default)s)")
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="play a full cross-account migration against the local sandboxes")
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
    check.add_argument("--config", default="app.yaml", help="path to app.yaml (default: %(default)s)")
    check.set_defaults(run=_check)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest for the configured mode")
    manifest.add_argument("--config", default="app.yaml", help="path to app.yaml (default: %(default)s)")
    manifest.add_argument("--url", default="https://dtsbot.example.com",
                          help="public base URL Slack posts to in HTTP mode (default: %(default)s)")
    manifest.set_defaults(run=_manifest)

    sandbox = commands.add_parser("sandbox", help="run a local Tencent Cloud or Slack emulator in the foreground")
    sandbox.add_argument("service", choices=["tencentcloud", "slack"])
    sandbox.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    sandbox.add_argument("--world", help="tencentcloud: a YAML/JSON world file (default: app.yaml's accounts)")
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
