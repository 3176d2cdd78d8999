"""What "user text cannot ping or format" means, as checks on the mrkdwn the bot sends.

Slack acts on `<…>` sequences (`<!channel>`, `<@U…>`, `<#C…>`, links) and formats `*bold*`, `_italic_` and
`~strike~`. The bot's own text may mention configured people and bold its labels; user text may do neither:
it must be escaped (`&lt;`) and, where it could format, shown inside a code span (`` `…` ``), from which it
cannot escape because backticks in user text are replaced.
"""

from __future__ import annotations

import re

KNOWN_MENTION = re.compile(r"<@U0(?:REQUESTER|SRCOWNER|TGTOWNER|STRANGER|DTSBOT)>")
CODE_SPAN = re.compile(r"`[^`\n]*`")
ITALIC = re.compile(r"(?<![A-Za-z0-9])_[^_\s][^_\n]*?(?<!\s)_(?![A-Za-z0-9])")
FORMATTING = re.compile(r"[*~]")


def pings(text: str) -> list[str]:
    """Raw `<…>` control sequences other than the bot's mentions of known people."""
    return re.findall(r"<[^>]*>?", KNOWN_MENTION.sub("", text))


def formatting_outside_code(text: str) -> list[str]:
    """Bold/strike markers and italic runs that are not inside a code span."""
    plain = CODE_SPAN.sub("", text)
    return FORMATTING.findall(plain) + ITALIC.findall(plain)


def mrkdwn_texts(message: dict) -> list[str]:
    """Every mrkdwn string of a message: its fallback text and each section's text and fields."""
    texts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        for part in [block.get("text")] + list(block.get("fields") or []) + list(block.get("elements") or []):
            if isinstance(part, dict) and part.get("type") == "mrkdwn":
                texts.append(part["text"])
    return texts
