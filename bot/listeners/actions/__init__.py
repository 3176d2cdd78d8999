"""Button clicks, by action_id: each acked at once, its work done after the ack (bot/listeners/acks.py)."""

from slack_bolt import App

from bot.listeners.acks import acknowledge, logged
from bot.listeners.actions.approve import approve
from bot.listeners.actions.cancel import cancel
from bot.listeners.actions.complete import complete
from bot.listeners.actions.edit import edit
from bot.listeners.actions.reject import reject
from bot.listeners.actions.retry import retry
from bot.listeners.actions.reverify import reverify


def register(app: App) -> None:
    """The request message's buttons, the cancel confirmation and the notices' buttons."""
    app.action("approve_source")(ack=acknowledge, lazy=[logged(approve)])
    app.action("approve_target")(ack=acknowledge, lazy=[logged(approve)])
    app.action("reject")(ack=acknowledge, lazy=[logged(reject)])
    app.action("edit")(ack=acknowledge, lazy=[logged(edit)])
    app.action("cancel")(ack=acknowledge, lazy=[logged(cancel)])
    app.action("reverify")(ack=acknowledge, lazy=[logged(reverify)])
    app.action("complete")(ack=acknowledge, lazy=[logged(complete)])
    app.action("retry")(ack=acknowledge, lazy=[logged(retry)])
