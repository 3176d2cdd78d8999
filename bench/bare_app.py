"""The bare Bolt app of bench/ack.py as its own process: dtsbot's Bolt configuration and HTTP server (waitress,
with the same signature gate before Bolt), listeners that only ack. Run as a child (`python bench/bare_app.py PORT SLACK_API_URL`), like `dtsbot serve`, so both
targets are measured the same way: a separate interpreter with its own GIL, reached over HTTP.
"""

from __future__ import annotations

import signal
import sys
import threading

from slack_sdk import WebClient

from bot.app import bolt_app
from bot.server import HttpServer, wsgi_app

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
LISTENER_THREADS = 32  # slack.listener_threads' default, as dtsbot serve runs in the bench


def main() -> None:
    port, slack_api_url = int(sys.argv[1]), sys.argv[2]
    app = bolt_app(SIGNING_SECRET, WebClient(token=BOT_TOKEN, base_url=slack_api_url), LISTENER_THREADS,
                   token_verification_enabled=False)
    app.command("/dts-migrate")(lambda ack: ack())
    app.action("approve_source")(lambda ack: ack())
    server = HttpServer(wsgi_app(app, signing_secret=SIGNING_SECRET), port=port, host="127.0.0.1")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server.start()
    print(f"bare Bolt app at {server.url}", flush=True)
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
