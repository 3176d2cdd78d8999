"""Structured logs: JSON lines when not on a terminal, and a filter that redacts secrets from every record.

The redactor knows the configured secret values (API keys, Slack tokens, database passwords) and also the
shapes of secrets that are never configured (temporary credentials, STS tokens, Slack tokens), so a secret
that reaches a log call by mistake is masked before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from core.config import DEFAULT_LOGGER_LEVELS, Settings

MASK = "[redacted]"

# `"TmpSecretKey": "…"`, `secret_key=…`, `Password: …` in dicts, JSON or key=value text.
_SECRET_NAME = r"[A-Za-z_]*(?:secret_?key|SecretKey|[Tt]oken|[Pp]assword|signing_secret|TmpSecretId)[A-Za-z_]*"
_SECRET_FIELD = re.compile(
    rf"""(?P<key>["']?{_SECRET_NAME}["']?\s*[:=]\s*)(?P<quote>["']?)(?P<value>[^"',}}\s]+)(?P=quote)"""
)
_SECRET_KEY = re.compile(_SECRET_NAME)
# Slack tokens and Slack signing signatures have recognisable prefixes.
_SECRET_SHAPES = re.compile(r"\b(?:xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-f]{64})\b")
# Standard LogRecord attributes; anything else on a record came from `extra=` and is logged as a field.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value in the configuration (what the redactor must never let through)."""
    values = [settings.slack.bot_token, settings.slack.signing_secret, settings.slack.app_token]
    for account in settings.accounts:
        for creds in (account.credentials, account.executor_credentials):
            if creds is not None:
                values.append(creds.secret_key)
    values += [login.password for login in settings.databases.values()]
    return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


class SecretRedactor(logging.Filter):
    """Masks secrets in a record's message, arguments and extra fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """`secrets`: exact values to mask (the configuration's); shorter than 4 characters are left alone."""
        super().__init__()
        self._secrets = {s for s in secrets if s and len(s) >= 4}

    def add(self, secret: str) -> None:
        """Mask `secret` from now on too (a password read from Secrets Manager when it is used)."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        """The text with every known secret and secret-shaped value masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        text = _SECRET_SHAPES.sub(MASK, text)
        return _SECRET_FIELD.sub(lambda m: f"{m['key']}{m['quote']}{MASK}{m['quote']}", text)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: MASK if _SECRET_KEY.fullmatch(str(k)) else self._clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._clean(v) for v in value)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key in set(vars(record)) - _RESERVED:
            setattr(record, key, self._clean(getattr(record, key)))
        return True


class _TextFormatter(logging.Formatter):
    """Human-readable line for a terminal, with the extra fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={getattr(record, k)}" for k in sorted(set(vars(record)) - _RESERVED))
        return f"{line} {extras}".rstrip()


def redact_also(secret: str) -> None:
    """Have every dtsbot log handler's redactor mask `secret` too."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretRedactor):
                found.add(secret)


def configure_logging(settings: Settings | None = None, level: str | None = None,
                      json: bool | None = None) -> SecretRedactor:
    """Send logs to stderr (JSON unless stderr is a terminal) through a redactor; return it to add secrets.

    Levels: `level` when given, else `logging.level` (INFO); each logger of `logging.levels` (APScheduler's job
    chatter at WARNING by default) at its own."""
    redactor = SecretRedactor(configured_secrets(settings) if settings else ())
    handler = logging.StreamHandler(sys.stderr)
    use_json = not sys.stderr.isatty() if json is None else json
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"})
        if use_json
        else _TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_dtsbot", False)]:
        root.removeHandler(old)
    handler._dtsbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level or (settings.logging.level if settings else "INFO"))
    levels = settings.logging.effective_levels() if settings else DEFAULT_LOGGER_LEVELS
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)
    return redactor
