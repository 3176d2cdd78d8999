"""Modal submissions, by callback_id."""

from slack_bolt import App

from bot.listeners.views.reject_reason import reject_reason
from bot.listeners.views.request_form import request_form
from bot.modals import REJECT_FORM, REQUEST_FORM


def register(app: App) -> None:
    """The request form (new or edit) and the reject-reason form."""
    app.view(REQUEST_FORM)(request_form)
    app.view(REJECT_FORM)(reject_reason)
