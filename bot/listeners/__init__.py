"""Every Slack listener, registered by kind (Slack's Bolt starter-template layout)."""

from slack_bolt import App

from bot.listeners import actions, commands, views


def register_listeners(app: App) -> None:
    """Attach the slash command, the button actions and the modal submissions to `app`."""
    commands.register(app)
    actions.register(app)
    views.register(app)
