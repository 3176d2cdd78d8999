"""Button clicks, by action_id: each acked at once, its work done after the ack (bot/listeners/acks.py)."""

from slack_bolt import App

from bot.listeners.acks import ack_first
from bot.listeners.actions.approve import approve
from bot.listeners.actions.cancel import cancel
from bot.listeners.actions.complete import complete
from bot.listeners.actions.edit import edit
from bot.listeners.actions.guided import check_deleted, reveal_steps, verify_owner_steps
from bot.listeners.actions.reject import reject
from bot.listeners.actions.retry import retry
from bot.listeners.actions.reverify import reverify


def register(app: App) -> None:
    """The request message's buttons, the cancel confirmation and the notices' buttons."""
    app.action("approve_source")(ack_first(app, approve))
    app.action("approve_target")(ack_first(app, approve))
    app.action("reject")(ack_first(app, reject))
    app.action("edit")(ack_first(app, edit))
    app.action("cancel")(ack_first(app, cancel))
    app.action("reverify")(ack_first(app, reverify))
    app.action("complete")(ack_first(app, complete))
    app.action("retry")(ack_first(app, retry))
    app.action("guided_verify")(ack_first(app, verify_owner_steps))
    app.action("grant_verify")(ack_first(app, verify_owner_steps))
    app.action("guided_reveal")(ack_first(app, reveal_steps))
    app.action("role_deleted_check")(ack_first(app, check_deleted))
