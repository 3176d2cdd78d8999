"""Slash commands: acked at once, the work done after the ack (bot/listeners/acks.py)."""

from slack_bolt import App

from bot.listeners.acks import ack_first
from bot.listeners.commands.dts_migrate import dts_migrate

COMMAND = "/dts-migrate"


def register(app: App) -> None:
    """`/dts-migrate` and its sub-commands."""
    app.command(COMMAND)(ack_first(app, dts_migrate))
