"""Slash commands."""

from slack_bolt import App

from bot.listeners.commands.dts_migrate import dts_migrate

COMMAND = "/dts-migrate"


def register(app: App) -> None:
    """`/dts-migrate` and its sub-commands."""
    app.command(COMMAND)(dts_migrate)
