"""Every Slack listener, registered by kind (Slack's Bolt starter-template layout)."""

from slack_bolt import App

from bot.listeners import actions, commands, events, views


def register_listeners(app: App) -> None:
    """Attach the slash command, the button actions, the modal submissions and the events to `app`."""
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
