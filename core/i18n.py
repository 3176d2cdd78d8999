"""Two languages for everything people read: English source strings as msgids, Simplified Chinese from a catalog.

The msgid *is* the English text (gettext's convention), so code reads as it did and English needs no catalog.
The Chinese catalog is `core/locale/zh_CN/LC_MESSAGES/dtsbot.po`, read at run time with Babel's .po reader (no
build step; the .po ships as package data).

Which language: text for the channel (request message, thread notices, diagnoses) is in the channel language,
`slack.language`, set once when the bot is wired (`set_channel_language`). Text for one person (ephemerals,
modals) is rendered inside `with speaking(locale):`, `locale` from `bot.user_locale.locale_for_user`; every
Slack listener's work runs so (bot/listeners/acks.py), and what it queues for the channel is `for_channel(...)`.

To translate a new string:
1. wrap it where it is rendered: `_("DTS task `{job_id}` bought.", job_id=job_id)` — named placeholders only,
   filled after translation (so a translation may move them); a string kept in a table at import time is
   marked `N_("Running")` and translated where it is shown: `_(TABLE[key])`; text a listener writes for the
   channel is `for_channel("...")`.
2. `scripts/i18n-update` extracts the msgids into the catalog (pybabel extract + update);
3. write the `msgstr` in `dtsbot.po`. tests/core/test_i18n.py fails on any wrapped msgid without a
   translation.
Texts of DTS itself (FailureReason, Solution, ErrorMessage) and people's words are never wrapped.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

ENGLISH, CHINESE = "en", "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)
"""The languages dtsbot speaks, as Slack spells locales (`slack.language` takes one of these)."""
DOMAIN = "dtsbot"
LOCALE_DIR = Path(__file__).parent / "locale"
_CATALOG_LOCALE = {CHINESE: "zh_CN"}

_channel_language = ENGLISH
Resolve = Callable[[], "str | None"]
_speaking: contextvars.ContextVar[str | Resolve | None] = contextvars.ContextVar("dtsbot_language", default=None)


def catalog_path(language: str) -> Path:
    """Where the .po catalog of `language` lives."""
    return LOCALE_DIR / _CATALOG_LOCALE[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The gettext translations of `language`, read once from its .po (English: the msgids themselves)."""
    if language not in _CATALOG_LOCALE:
        return NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=_CATALOG_LOCALE[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def set_channel_language(language: str) -> None:
    """The language of the channel's messages (`slack.language`), set when the bot is wired."""
    global _channel_language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; allowed: {', '.join(LANGUAGES)}")
    _channel_language = language


def channel_language() -> str:
    """The channel's language: what notices and the request message are written in."""
    return _channel_language


def current_language() -> str:
    """The language text is rendered in here: the person's inside `speaking(...)`, else the channel's."""
    chosen = _speaking.get()
    if callable(chosen):  # speaking_lazily: look it up now that text is rendered, once
        found = chosen()
        chosen = found if found in LANGUAGES else _channel_language
        _speaking.set(chosen)
    return chosen or _channel_language


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Render the text built inside in `language` (a person's locale); None keeps the current language."""
    chosen = language if language in LANGUAGES else current_language()
    token = _speaking.set(chosen)
    try:
        yield chosen
    finally:
        _speaking.reset(token)


@contextmanager
def speaking_lazily(resolve: Resolve) -> Iterator[None]:
    """Render the text built inside in the language `resolve()` returns, asked only when the first text is
    rendered (a person's Slack locale costs a users.info; work that renders nothing, or renders first in a
    language it chose itself, never waits for it)."""
    token = _speaking.set(resolve)
    try:
        yield
    finally:
        _speaking.reset(token)


def _(message: str, /, **params: object) -> str:
    """`message` (English) in the current language, its `{name}` placeholders filled from `params`."""
    text = translations(current_language()).gettext(message)
    return text.format(**params) if params else text


def for_channel(message: str, /, **params: object) -> str:
    """`message` in the channel language even where a person's language is spoken (a listener queuing a notice)."""
    with speaking(_channel_language):
        return _(message, **params)


def N_(message: str, /) -> str:
    """Marks `message` for the catalog where it cannot be translated yet (a table built at import)."""
    return message
