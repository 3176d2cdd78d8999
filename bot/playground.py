"""`dtsbot demo --keep-running`: after the story, the sandboxes and the bot stay up and take commands.

Each line typed on stdin is one person's action, sent through the same signed Slack driver as the story:
`U0REQUESTER /dts-migrate list` (a slash command) or `U0SRCOWNER click approve_source` (a button of the latest
message that has it, request message or thread reply). The channel keeps printing as before. Ctrl-C stops.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import Stage, Story
    from bot.progress import Progress


def instructions(stage: Stage) -> list[str]:
    """How to reach the running pieces and send commands to the bot."""
    cloud = f"http://{stage.cloud.endpoint}"
    return [
        "",
        "Still running (Ctrl-C to stop):",
        f"  bot              {stage.bot_url}/slack/events   health: curl {stage.bot_url}/healthz",
        f"  Slack emulator   {stage.slack.base_url}   channel: curl {stage.slack.url}/_emulator/messages",
        f"  Tencent Cloud    {cloud}   calls: curl {cloud}/_sandbox/calls",
        "Type a person's action, one per line:",
        "  U0REQUESTER /dts-migrate list          (users: U0REQUESTER U0SRCOWNER U0TGTOWNER U0STRANGER)",
        "  U0SRCOWNER click approve_source         (a button of the latest message that has it)",
    ]


def _latest_with(story: Story, action_id: str) -> dict | None:
    candidates = []
    for message in story.slack.messages():
        candidates += [message, *story.slack.thread("C0DTSBOT01", message["ts"])]
    for message in sorted(candidates, key=lambda m: float(m["ts"]), reverse=True):
        for block in message.get("blocks", []):
            if any(e.get("action_id") == action_id for e in block.get("elements", [])):
                return message
    return None


def act(story: Story, line: str) -> str | None:
    """Perform one typed action; returns a complaint when the line cannot be understood."""
    user, _, rest = line.strip().partition(" ")
    if user not in story.slack.workspace.users:
        return f"unknown user {user!r}"
    if rest.startswith("/dts-migrate"):
        story.slash(user, rest.removeprefix("/dts-migrate").strip())
        return None
    verb, _, action_id = rest.partition(" ")
    if verb == "click" and action_id:
        message = _latest_with(story, action_id.strip())
        if message is None:
            return f"no message in the channel has a {action_id!r} button"
        story.click(user, message, action_id.strip())
        return None
    return "expected `<user> /dts-migrate ...` or `<user> click <action_id>`"


def keep_running(stage: Stage, story: Story, progress: Progress) -> None:
    """Follow the channel and perform typed actions until Ctrl-C (stdin's end only stops the typing)."""
    for line in instructions(stage):
        progress.line(line)
    lines: queue.Queue[str] = queue.Queue()

    def read_stdin() -> None:
        for text in sys.stdin:
            lines.put(text)

    threading.Thread(target=read_stdin, name="demo-stdin", daemon=True).start()
    story.deadline = float("inf")
    try:
        while True:
            story.follower.poll()
            try:
                typed = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if typed.strip():
                complaint = act(story, typed)
                if complaint:
                    progress.line(f"  ? {complaint}")
    except KeyboardInterrupt:
        progress.line("stopping")
