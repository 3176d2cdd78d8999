"""`dtsbot serve` in the test process: `build_runtime` (the Bolt app over HTTP, the notifier loop, the scheduler
with the real cloud steps) on the Slack emulator and the Tencent Cloud sandbox, and the people's side of it.

For stories that need the cloud work (ownership, the scheduler's wiring); tests of the Slack surface alone use
`tests.support.harness`, tests of a real `dtsbot serve` process `tests/reliability/serveproc.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.runtime import Runtime, build_runtime
from core.config import Settings
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope
from tests.support.workspace import CHANNEL, REQUESTER, SIGNING_SECRET, SOURCE_OWNER, TARGET_OWNER

WAIT = 60.0
"""Through the scheduler, the sandbox and Slack's pacing on a loaded machine."""


@dataclass
class Serving:
    """One replica serving Slack with its scheduler, and the people's side of it."""

    runtime: Runtime
    slack: SlackEmulator
    cloud: TencentCloudSandbox
    driver: SlackDriver

    def open(self, text: str) -> str:
        """The requester's inline request; its id once the bot confirmed it."""
        before = len(self.slack.ephemerals(REQUESTER))
        assert self.driver.slash(REQUESTER, text).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(REQUESTER)[before:], timeout=WAIT)[0]
        return re.search(r"\bmr-[a-z0-9]+", reply["text"]).group(0)

    def message(self, request_id: str) -> dict:
        """The request message in the channel, once posted."""
        return self.slack.wait_for(lambda: next(
            (m for m in self.slack.messages() if m["blocks"][0]["text"]["text"] == f"DTS migration {request_id}"),
            None), timeout=WAIT)

    def approve(self, request_id: str) -> None:
        """Both owners click Approve."""
        message = self.message(request_id)
        assert self.driver.click(SOURCE_OWNER, message, "approve_source").status == 200
        assert self.driver.click(TARGET_OWNER, message, "approve_target").status == 200

    def complete(self, request_id: str) -> None:
        """The target owner clicks Complete once the incremental sync is ready."""
        ready = self.slack.wait_for(lambda: next((r for r in self.slack.thread(CHANNEL, self.message(
            request_id)["ts"]) if any(e.get("action_id") == "complete" for b in r.get("blocks", [])
                                      for e in b.get("elements", []))), None), timeout=WAIT)
        assert self.driver.click(TARGET_OWNER, ready, "complete").status == 200

    def cancel(self, request_id: str) -> None:
        """`/dts-migrate cancel ID`, then the requester confirms."""
        count = len(self.slack.ephemerals(REQUESTER))
        assert self.driver.slash(REQUESTER, f"cancel {request_id}").status == 200
        confirm = self.slack.wait_for(lambda: self.slack.ephemerals(REQUESTER)[count:], timeout=WAIT)[0]
        assert self.driver.click(REQUESTER, confirm, "cancel").status == 200

    def state(self, request_id: str) -> str:
        with session_scope(self.runtime.db) as session:
            return repository.get_request(session, request_id).state

    def reaches(self, request_id: str, *states: str) -> str:
        """Wait until the request is in one of `states`; the failure shows its thread."""
        try:
            return eventually(lambda: self.state(request_id) if self.state(request_id) in states else None,
                              timeout=WAIT)
        except AssertionError:
            raise AssertionError(f"{request_id} is {self.state(request_id)}, not {states}:\n"
                                 f"{self.thread_text(request_id)}") from None

    def thread_text(self, request_id: str) -> str:
        """The request's thread replies, one per line."""
        return "\n".join(m.get("text", "") for m in self.slack.thread(CHANNEL, self.message(request_id)["ts"]))


@contextmanager
def serving(settings: Settings, slack: SlackEmulator, cloud: TencentCloudSandbox,
            **runtime_options: Any) -> Iterator[Serving]:
    """`build_runtime(settings)` started on 127.0.0.1 (options as `build_runtime`'s), stopped afterwards."""
    runtime = build_runtime(settings, host="127.0.0.1", **runtime_options)
    runtime.start()
    try:
        yield Serving(runtime, slack, cloud, SlackDriver(runtime.http.url, SIGNING_SECRET, slack))
    finally:
        runtime.stop()
