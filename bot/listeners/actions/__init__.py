"""Button clicks, by action_id."""

from slack_bolt import App

from bot.listeners.actions.approve import approve
from bot.listeners.actions.cancel import cancel
from bot.listeners.actions.complete import complete
from bot.listeners.actions.edit import edit
from bot.listeners.actions.reject import reject
from bot.listeners.actions.retry import retry
from bot.listeners.actions.reverify import reverify


def register(app: App) -> None:
    """The request message's buttons, the cancel confirmation and the notices' buttons."""
    app.action("approve_source")(approve)
    app.action("approve_target")(approve)
    app.action("reject")(reject)
    app.action("edit")(edit)
    app.action("cancel")(cancel)
    app.action("reverify")(reverify)
    app.action("complete")(complete)
    app.action("retry")(retry)
