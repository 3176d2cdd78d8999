"""The Bolt app: signature-checked requests in, listeners registered by kind, dependencies in the context.

`process_before_response=True` and listeners that ack first (bot/listeners/acks.py): the ack runs on the HTTP
request's thread and Slack is answered right after it; the work (database, respond(), views.open) runs in the
listener executor, so neither an ack nor the 3-second limit ever waits on it. (With `False`, Bolt runs the ack
inside the executor, queued behind earlier requests' work, and polls for it every 10 ms.) The executor is sized
from `slack.listener_threads`: its threads mostly wait on Slack and the database.
Slack retries (X-Slack-Retry-Num) run the listener again: every domain operation is idempotent (dedupe keys,
one approval per side and revision, transitions under the row's version), so a retry repeats nothing, and
a retry whose first delivery was lost still does the work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.directory import SlackDirectory
from bot.listeners import register_listeners
from bot.services import SERVICES, Services
from core import i18n
from core.approvals import MembersOf
from core.config import Settings
from core.logins import DatabaseLogins
from core.requests import MigrationRequests, Resumer
from storage.models import MigrationRequest


def build_app(
    settings: Settings,
    db_engine: Engine,
    web_client: WebClient,
    run_now: Callable[[str], None] = lambda _request_id: None,
    *,
    resumers: Mapping[str, Resumer] | None = None,
    wake: Callable[[], None] = lambda: None,
    members_of: MembersOf | None = None,
    token_verification_enabled: bool = True,
    inspect_role: Callable[[MigrationRequest], dict[str, Any]] | None = None,
    unrecorded: Callable[[], None] = lambda: None,
    logins: DatabaseLogins | None = None,
) -> App:
    """The Slack app. `run_now(id)` has the workflow engine run the request now; `wake()` nudges the notifier;
    `resumers` are the engine's re-verify/complete/retry decisions; `members_of` resolves user groups
    and e-mail addresses (default: bot.directory.SlackDirectory); `inspect_role` reads CAM for the plan
    (handlers.role_check); `unrecorded()` counts a click the database failed to record; `logins` are the
    database logins a request needs before it is accepted. Sets the process's
    channel language (`slack.language`) for everything written to the channel, the engine's notices included."""
    i18n.set_channel_language(settings.slack.language)
    requests = MigrationRequests(db_engine, settings, run_now, members_of or SlackDirectory(web_client),
                                 resumers, inspect_role, logins)
    services = Services(settings=settings, db=db_engine, requests=requests, wake=wake, unrecorded=unrecorded)
    app = bolt_app(settings.slack.signing_secret.get_secret_value(), web_client, settings.slack.listener_threads,
                   token_verification_enabled=token_verification_enabled)

    @app.middleware
    def provide_services(context: BoltContext, next: Callable[[], Any]) -> None:
        context[SERVICES] = services
        next()

    register_listeners(app)
    return app


def bolt_app(signing_secret: str, web_client: WebClient, listener_threads: int, *,
             token_verification_enabled: bool = True) -> App:
    """A Bolt App configured as dtsbot runs it, without listeners (bench/ack.py's bare app is this too)."""
    return App(
        client=web_client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=True,
        token_verification_enabled=token_verification_enabled,
        listener_executor=ThreadPoolExecutor(max_workers=listener_threads, thread_name_prefix="dtsbot-listener"),
    )
