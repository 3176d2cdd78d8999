"""The channel as a person reads it: Slack messages rendered as plain text, followed as they appear.

`render_message` turns a message's blocks (or text) into lines: mentions become names, mrkdwn markers and
entities are undone, a few status emoji become symbols, buttons show as `[Approve (source owner)]`.
`ChannelFollower` watches one channel of the Slack emulator and prints what is new since the last look:
top-level messages, edits of them (only the lines that changed), thread replies (indented) and ephemeral
replies (marked "only visible to you").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.slack.emulator import SlackEmulator

EMOJI = {
    "white_check_mark": "✅", "hourglass": "⏳", "hourglass_flowing_sand": "⏳", "key": "🔑", "mag": "🔍",
    "shopping_trolley": "🛒", "gear": "⚙️", "x": "❌", "arrow_forward": "▶️", "arrows_counterclockwise": "🔄",
    "checkered_flag": "🏁", "lock": "🔒", "tada": "🎉", "rotating_light": "🚨", "no_entry": "⛔",
    "no_entry_sign": "🚫", "alarm_clock": "⏰", "warning": "⚠️",
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")

Say = Callable[[str], None]


def plain(mrkdwn: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as plain text: `<@U…>` → `@Name`, *bold* unmarked, entities and emoji decoded."""
    text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), mrkdwn)
    text = _GROUP.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BOLD.sub(r"\1", text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def buttons(message: Mapping[str, Any]) -> list[str]:
    """The labels of the message's buttons, as `[Label]`."""
    return [f"[{element['text']['text']}]" for block in message.get("blocks") or [] if block.get("type") == "actions"
            for element in block.get("elements", []) if element.get("type") == "button"]


def render_message(message: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """The message's lines as displayed: header, sections, context, then its buttons on one line."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section" and block.get("text"):
            lines.extend(plain(block["text"]["text"], names).splitlines())
        elif kind == "context":
            lines.append(" · ".join(plain(e.get("text", ""), names) for e in block.get("elements", [])))
    if not lines and message.get("text"):
        lines = plain(message["text"], names).splitlines()
    labels = buttons(message)
    if labels:
        lines.append("  ".join(labels))
    return lines


class ChannelFollower:
    """Prints what is new in one channel each time `poll()` is called; keeps every line it printed."""

    def __init__(self, slack: SlackEmulator, channel: str, say: Say, names: Mapping[str, str]) -> None:
        self.slack, self.channel, self.names = slack, channel, dict(names)
        self._say = say
        self.lines: list[str] = []
        self._shown: dict[str, list[str]] = {}  # message ts -> lines shown for it (top level)
        self._replies: dict[str, int] = {}  # parent ts -> replies shown
        self._ephemerals = 0

    def say(self, line: str) -> None:
        """Print one line of the transcript."""
        self.lines.append(line)
        self._say(line)

    def person(self, user: str, action: str) -> None:
        """What a person did (typed a command, clicked a button), as the transcript tells it."""
        self.say(f"{self.names.get(user, user)}: {action}")

    def poll(self) -> None:
        """Print new ephemerals, then new messages, edits and thread replies since the last poll."""
        # a person's own answer first: it replies to what they just did, the channel's news follows it
        ephemerals = [e for e in self.slack.ephemerals() if e.get("channel") == self.channel]
        for ephemeral in ephemerals[self._ephemerals:]:
            who = self.names.get(ephemeral["user"], ephemeral["user"])
            first, *rest = render_message(ephemeral, self.names) or [""]
            self._block(f"  {self._author(ephemeral)} → {who} (only visible to you): {first}", [f"    {r}" for r in rest])
        self._ephemerals = len(ephemerals)
        for message in self.slack.messages(self.channel):
            if message["ts"] in self._shown:  # the replies first: an edit summarises them, it never comes before
                self._thread(message["ts"])
                self._top_level(message)
            else:
                self._top_level(message)
                self._thread(message["ts"])

    def _top_level(self, message: dict[str, Any]) -> None:
        lines = render_message(message, self.names)
        before = self._shown.get(message["ts"])
        self._shown[message["ts"]] = lines
        if before is None:
            self._block(f"{self._author(message)}:", [f"  {line}" for line in lines])
        elif lines != before:
            changed = [line for line in lines if line not in before]
            if before[-1].startswith("[") and not buttons(message):
                changed.append("(no buttons)")
            self._block(f"{self._author(message)} (edited the request message):", [f"  {c}" for c in changed])

    def _thread(self, ts: str) -> None:
        replies = self.slack.thread(self.channel, ts)
        for reply in replies[self._replies.get(ts, 0):]:
            self._block(f"    ↳ {self._author(reply)}:", [f"      {line}" for line in render_message(reply, self.names)])
        self._replies[ts] = len(replies)

    def _author(self, message: Mapping[str, Any]) -> str:
        return self.names.get(message.get("user", ""), "dtsbot") if message.get("bot_id") is None else "dtsbot"

    def _block(self, head: str, lines: list[str]) -> None:
        self.say(head)
        for line in lines:
            self.say(line)

