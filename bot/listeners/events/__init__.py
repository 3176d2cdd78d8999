"""Events API callbacks: acked at once, the work done after the ack (bot/listeners/acks.py)."""

from slack_bolt import App

from bot.listeners.acks import ack_first
from bot.listeners.events.app_home_opened import app_home_opened


def register(app: App) -> None:
    """The App Home tab."""
    app.event("app_home_opened")(ack_first(app, app_home_opened))
