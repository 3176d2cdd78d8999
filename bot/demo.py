"""`dtsbot demo`: the public guide's story, played against the local sandboxes by the bot `dtsbot serve` runs.

The stage: the Tencent Cloud sandbox (default world, sped-up clock), the Slack emulator, and the bot built by
`bot.runtime.build_runtime` from the shipped app.yaml (bot/demo_app.yaml) with the sandboxes' URLs, a temporary SQLite database and a
short poll as environment overrides. The story is told by the Slack driver (signed slash commands and clicks,
as Slack sends them) and the channel is printed as a person reads it while it happens. A `--scenario` makes one
of the guide's FAQ misconfigurations really happen in the sandbox world, right before the preflight runs, and
succeeds when the bot's diagnosis appears in the channel.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import select

from bot.progress import Progress
from bot.runtime import Runtime, build_runtime
from bot.scenarios import SCENARIOS, SOURCE_UIN, Scenario
from bot.transcript import ChannelFollower
from core import i18n
from core.config import Settings, load_settings
from core.logs import configure_logging
from core.policies import default_role_name
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage import outbox, repository
from storage.db import session_scope
from storage.models import OutboxMessage

T = TypeVar("T")
APP_YAML = Path(__file__).with_name("demo_app.yaml")
"""The shipped app.yaml (package data, so an installed dtsbot has it; in the source tree a link to ../app.yaml)."""
REQUESTER, SOURCE_OWNER, TARGET_OWNER, STRANGER = "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER", "U0STRANGER"
COMMAND = ("source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-src00001 "
           "target_account=analytics target_region=ap-guangzhou target_instance=cdb-dst00001 db_type=mysql")
SPEED = 10.0  # sandbox seconds per real second: the DTS task's ~30 s timeline takes ~3 s
POLL_SECONDS = 0.5
_REQUEST_ID = re.compile(r"\bmr-[a-z0-9]+")
RUNNING = ("running", "ready_to_complete")


class StoryFailed(Exception):
    """The story did not reach its end; the message says where it stopped."""


class Stage:
    """The sandboxes and the bot on free ports of 127.0.0.1, started and stopped together."""

    def __init__(self, config: Path = APP_YAML, speed: float = SPEED, poll_seconds: float = POLL_SECONDS,
                 language: str = i18n.ENGLISH) -> None:
        self.config, self.speed, self.poll_seconds, self.language = config, speed, poll_seconds, language
        self.cloud = TencentCloudSandbox(default_world(speed))
        # the people's Slack is in the channel's language, except the stranger's (English): their replies follow it
        self.slack = SlackEmulator(locales={user: language for user in (REQUESTER, SOURCE_OWNER, TARGET_OWNER)})
        self._tmp = tempfile.TemporaryDirectory(prefix="dtsbot-demo-")
        self.settings: Settings | None = None
        self.runtime: Runtime | None = None

    def start(self) -> None:
        """Start both sandboxes, then the bot pointed at them, as `dtsbot serve` runs it."""
        endpoint = self.cloud.start()
        self.slack.start()
        overrides = {
            "TENCENTCLOUD_ENDPOINT": endpoint, "SLACK_API_URL": self.slack.base_url,
            "DTSBOT_DATABASE_URL": f"sqlite:///{Path(self._tmp.name) / 'dtsbot.db'}", "DTSBOT_PORT": "0",
            "DTSBOT_POLL_SECONDS": str(self.poll_seconds), "DTSBOT_LANGUAGE": self.language,
        }
        # Only these overrides: the shipped defaults are the sandbox's keys, whatever this shell exports.
        self.settings = load_settings(self.config, environ=overrides)
        # the story's clock is fast but the bot's is not: the lag need not hold minutes of real time (the evidence
        # list and the consistency check's report are shown before the cutover all the same)
        self.settings = self.settings.model_copy(update={"cutover": self.settings.cutover.model_copy(
            update={"hold_minutes": 0})})
        configure_logging(self.settings, level="WARNING")
        # A story of a few seconds keeps every job busy; APScheduler's "skipped: already running" is noise here.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self.runtime = build_runtime(self.settings, host="127.0.0.1", owner="demo")
        self.runtime.start()

    @property
    def bot_url(self) -> str:
        assert self.runtime is not None and self.runtime.http is not None, "the bot runs in HTTP mode"
        return self.runtime.http.url

    def driver(self) -> SlackDriver:
        """Sends what Slack sends when people use the bot, signed with the configured secret."""
        assert self.settings is not None
        return SlackDriver(self.bot_url, self.settings.slack.signing_secret.get_secret_value(), self.slack)

    def stop(self) -> None:
        """Stop the bot first (it calls the sandboxes), then the sandboxes."""
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime.db.dispose()
        self.slack.stop()
        self.cloud.stop()
        self._tmp.cleanup()


class Story:
    """The people of the guide's story acting through the driver, and waits on what the channel shows."""

    def __init__(self, stage: Stage, follower: ChannelFollower, progress: Progress, timeout: float) -> None:
        self.stage, self.follower, self.progress = stage, follower, progress
        self.slack, self.driver = stage.slack, stage.driver()
        self.deadline = time.monotonic() + timeout
        self.request_id = ""

    def wait(self, what: str, found: Callable[[], T | None]) -> T:
        """Follow the channel until `found()` returns something; StoryFailed at the deadline."""
        started = time.monotonic()
        while True:
            self.follower.poll()
            value = found()
            if value:
                self.follower.poll()  # what found() saw may have arrived after that poll: print it before going on
                self.progress.waiting(None)
                return value
            now = time.monotonic()
            if now > self.deadline:
                raise StoryFailed(f"timed out waiting for {what}")
            if now - started > 1.0:  # a quick answer needs no indicator
                self.progress.waiting(what)
            time.sleep(0.1)

    def slash(self, user: str, text: str) -> dict[str, Any]:
        """`user` types `/dts-migrate text`; returns the bot's ephemeral answer."""
        self.follower.person(user, f"/dts-migrate {text}")
        return self._answered(user, lambda: self.driver.slash(user, text))

    def click(self, user: str, message: dict[str, Any], action_id: str) -> dict[str, Any]:
        """`user` clicks a button of `message`; returns the bot's ephemeral answer."""
        button: dict[str, Any] = next((b for b in message.get("blocks", []) for b in b.get("elements", [])
                                       if b.get("action_id") == action_id), {})
        label = button.get("text", {}).get("text", action_id)
        self.follower.person(user, f"clicks [{label}]")
        return self._answered(user, lambda: self.driver.click(user, message, action_id))

    def _answered(self, user: str, send: Callable[[], Any]) -> dict[str, Any]:
        """The bot's ephemeral answer to `user`, or, when it opened a form instead, `{"form": view}` (the form is
        said in the transcript: forms cannot be filled in it)."""
        seen, forms = len(self.slack.ephemerals(user)), len(self.slack.views)
        response = send()
        if response.status != 200:
            raise StoryFailed(f"the bot answered HTTP {response.status} to {user}")
        answer: dict[str, Any] = self.wait(f"the bot's answer to {user}", lambda: self.slack.ephemerals(user)[seen:]
                                           or [{"form": view} for view in self.slack.views[forms:]])[0]
        if "form" in answer:
            title = answer["form"].get("title", {}).get("text", "")
            self.progress.line(f"  dtsbot → {user}: opens the form “{title}”. Forms are not supported in the "
                               "transcript: type the fields inline (/dts-migrate source_account=… ; see "
                               "/dts-migrate help).")
        return answer

    def state(self) -> str | None:
        """The request's state in the bot's database: what the story waits on, not the timing of an edit."""
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            request = repository.get_request(session, self.request_id)
            return request.state if request else None

    def delivered(self) -> bool:
        """Every notice of the request reached the channel (so the transcript ends where the bot did)."""
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            return not outbox.unsent(session, self.request_id)

    def summarized(self) -> bool:
        """The request's summary card (core/report.py) reached the channel."""
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            card = session.exec(select(OutboxMessage).where(OutboxMessage.key == f"{self.request_id}:summary")).first()
            return card is not None and card.sent_at is not None

    def refused(self, user: str, action: str) -> bool:
        """Whether the bot refused `user`'s `action` (the audit says so, in whatever language the reply was)."""
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            return any(e.outcome == "refused" and e.actor == user and e.action == action
                       for e in repository.audit_trail(session, self.request_id))

    def audited(self, step: str, outcome: str) -> bool:
        """Whether the audit holds `step` with `outcome` for the request."""
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            return any(e.step == step and e.outcome == outcome for e in repository.audit_trail(session, self.request_id))

    def request_message(self) -> dict[str, Any] | None:
        """The request message as the channel shows it now."""
        return next((m for m in self.slack.messages() if self.request_id and self.request_id in m.get("text", "")),
                    None)

    def reply(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The first thread reply under the request message that `matches`."""
        message = self.request_message()
        replies = self.slack.thread("C0DTSBOT01", message["ts"]) if message else []
        return next((r for r in replies if matches(r)), None)


def _has_button(action_id: str) -> Callable[[dict[str, Any]], bool]:
    """Matches a thread reply that carries the button `action_id` (Retry, Complete)."""
    return lambda reply: any(element.get("action_id") == action_id for block in reply.get("blocks", [])
                             for element in block.get("elements", []))


SOURCE_KEYS = ("    credentials:\n      secret_id: ${SOURCE_SECRET_ID:-AKIDSANDBOXSOURCE0000000000000001}\n"
               "      secret_key: ${SOURCE_SECRET_KEY:-sandbox-source-secret-key-0001}\n")


def guided_config(config: Path, directory: Path) -> Path:
    """`config` with the source account guided and its keys removed (the bot then holds none for it)."""
    text = config.read_text(encoding="utf-8")
    if SOURCE_KEYS not in text:
        raise StoryFailed(f"{config} does not hold the shipped source account keys to take out")
    path = directory / "app-guided.yaml"
    path.write_text(text.replace(SOURCE_KEYS, "    access: guided\n", 1), encoding="utf-8")
    return path


def _sections(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message.get("blocks", []) if b.get("type") == "section")


def _tccli(text: str) -> str:
    found = re.search(r"\*tccli\*[^\n]*\n```\n(.*?)\n```", text, re.DOTALL)  # in either language
    if found is None:
        raise StoryFailed("no tccli script in the bot's steps")
    return found.group(1)


def _owner_runs(story: Story, script: str, where: str) -> int:
    """The source owner pastes the script into Cloud Shell: the calls go to the sandbox with the owner's keys."""
    from sandbox.tencentcloud.tccli import run_with_keys

    account = story.stage.cloud.world.account(SOURCE_UIN)
    done = run_with_keys(script, story.stage.cloud.endpoint, account.secret_id, account.secret_key)
    story.follower.person(SOURCE_OWNER, f"(in Cloud Shell of shop-prod) {where}: "
                                        + ", ".join(c.action for c in done))
    return len(done)


def play_guided(story: Story) -> str:
    """Guided mode: the owner follows the bot's steps, presses verify, the task runs, the owner deletes the role."""
    steps = story.wait("the source owner's steps in the thread", lambda: story.reply(_has_button("guided_verify")))
    refusal = story.click(STRANGER, steps, "guided_verify")
    if not story.refused(STRANGER, "guided_verify"):
        raise StoryFailed(f"the stranger's verify was not refused: {refusal.get('text')}")
    full = story.click(SOURCE_OWNER, steps, "guided_reveal")
    owner_calls = _owner_runs(story, _tccli(_sections(full)), "runs the tccli script from the bot's steps")
    story.click(SOURCE_OWNER, steps, "guided_verify")
    ready = story.wait("the migration to be ready to complete", lambda: story.reply(_has_button("complete")))
    story.click(TARGET_OWNER, ready, "complete")  # the cutover is the target owner's call
    ending = story.wait("the deletion steps", lambda: story.reply(_has_button("role_deleted_check"))
                        if story.state() == "succeeded" else None)
    owner_calls += _owner_runs(story, _tccli(_sections(ending)), "runs the deletion script")
    story.click(SOURCE_OWNER, ending, "role_deleted_check")
    story.wait("the proof that the role is gone", lambda: story.audited("role_deleted_check", "ok")
               and story.delivered())
    by_source = sum(r.caller_uin == SOURCE_UIN for r in story.stage.cloud.calls.records)
    return (f"succeeded; the owner created and deleted role {default_role_name(story.request_id)} from the bot's "
            f"steps; calls as shop-prod: "
            f"{by_source}, all {owner_calls} the owner's own")


def play(story: Story, scenario: Scenario) -> str:
    """The guide's story up to its end; returns how it ended, or raises StoryFailed."""
    answer = story.slash(REQUESTER, " ".join(filter(None, [COMMAND, scenario.fields])))
    found = _REQUEST_ID.search(answer.get("text", ""))
    if found is None:
        raise StoryFailed(f"the request was not accepted: {answer.get('text', '')}")
    story.request_id = found.group(0)
    message = story.wait("the request message in the channel", story.request_message)
    refusal = story.click(STRANGER, message, "approve_source")
    if not story.refused(STRANGER, "approve_source"):
        raise StoryFailed(f"the stranger's click was not refused: {refusal.get('text')}")
    story.click(SOURCE_OWNER, story.request_message() or message, "approve_source")
    story.click(TARGET_OWNER, story.request_message() or message, "approve_target")
    if scenario.guided:
        return play_guided(story)
    if scenario.expect:
        story.wait("the bot's diagnosis", lambda: story.reply(lambda r: scenario.expect in r.get("text", "")))
        failure = story.wait("the request to fail with a Retry button", lambda: story.reply(_has_button("retry"))
                             if story.state() == "failed" else None)
        # an access step failed: its retry re-creates access in the source account, so the source owner decides
        story.click(SOURCE_OWNER, failure, "retry")  # the bot repairs the role, policy or grant it manages
        story.wait("the repaired migration to run", lambda: story.state() in RUNNING and story.delivered())
        return f"diagnosed in the channel: {scenario.expect}; after Retry the bot repaired the access: Running"
    ready = story.wait("the migration to be ready to complete (incremental sync)",
                       lambda: story.reply(_has_button("complete")))
    story.click(TARGET_OWNER, ready, "complete")  # the cutover is the target owner's call
    story.wait("the migration to succeed and access to be revoked", lambda: story.state() == "succeeded"
               and story.delivered())
    name = default_role_name(story.request_id)
    role = story.stage.cloud.world.cam("100000000001").find_role(name)
    return "succeeded; access revoked: " + (f"role {name} still exists in shop-prod!" if role else
                                            f"role {name} no longer exists in shop-prod")


def summary(stage: Stage, request_id: str, ending: str, seconds: float) -> list[str]:
    """The closing lines: request, DTS job, how it ended, cloud calls by action, time taken."""
    assert stage.runtime is not None
    with session_scope(stage.runtime.db) as session:
        request = repository.get_request(session, request_id)
        job_id, state = (request.job_id, request.state) if request else (None, "unknown")
    calls = Counter(f"{r.service}.{r.action}" + ("" if r.outcome == "ok" else f" ({r.error_code or r.outcome})")
                    for r in stage.cloud.calls.records)
    lines = ["", "Summary",
             f"  request      {request_id} ({state})",
             f"  DTS job      {job_id or '- (none bought)'}",
             f"  outcome      {ending}",
             f"  cloud calls  {sum(calls.values())}"]
    lines += [f"    {count:3d} × {action}" for action, count in sorted(calls.items())]
    lines.append(f"  time taken   {seconds:.1f} s")
    return lines


@contextmanager
def staged(config: Path, speed: float, language: str = i18n.ENGLISH) -> Iterator[Stage]:
    """A started stage, stopped on the way out."""
    stage = Stage(config, speed, language=language)
    try:
        stage.start()
        yield stage
    finally:
        stage.stop()


def run(scenario: str = "happy", *, keep_running: bool = False, timeout: float = 120.0, speed: float = SPEED,
        config: Path = APP_YAML, progress: Progress | None = None, language: str = i18n.ENGLISH) -> int:
    """Play the story; 0 when it ended as the scenario expects, 1 otherwise (with the reason printed)."""
    chosen = SCENARIOS[scenario]
    progress = progress or Progress()
    holder = tempfile.TemporaryDirectory(prefix="dtsbot-demo-config-")
    if chosen.guided:
        config = guided_config(config, Path(holder.name))
    with holder, progress, staged(config, speed, language) as stage:
        follower = ChannelFollower(stage.slack, "C0DTSBOT01", progress.line, stage.slack.workspace.users)
        progress.line(f"dtsbot demo — {chosen.title}")
        progress.line(f"  Tencent Cloud sandbox http://{stage.cloud.endpoint} · Slack emulator {stage.slack.url} · "
                      f"bot {stage.bot_url}")
        progress.line("")
        chosen.arrange(stage.cloud, follower.person)
        story = Story(stage, follower, progress, timeout)
        try:
            ending = play(story, chosen)
            if story.state() in ("succeeded", "cancelled"):  # ended: the DTS task is closed out, then summed up
                story.wait("the summary card", story.summarized)
            story.wait("the last notices to reach the channel", story.delivered)
            follower.poll()
        except StoryFailed as failure:
            follower.poll()
            progress.line(f"\ndtsbot demo: the story did not complete: {failure}")
            return 1
        for line in summary(stage, story.request_id, ending, progress.elapsed()):
            progress.line(line)
        if keep_running:
            from bot.playground import keep_running as serve_forever

            serve_forever(stage, story, progress)
    return 0
