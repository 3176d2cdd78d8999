"""Modal submissions, by callback_id: the ack closes the form (or shows its errors), the work comes after it."""

from slack_bolt import App

from bot.cutover_forms import OVERRIDE_FORM
from bot.listeners.acks import ack_first
from bot.listeners.views.override_reason import override_reason
from bot.listeners.views.reject_reason import reject_reason
from bot.listeners.views.request_form import check_request_form, request_form
from bot.listeners.views.throttle_form import check_throttle_form, throttle_form
from bot.modals import REJECT_FORM, REQUEST_FORM, THROTTLE_FORM


def register(app: App) -> None:
    """The request form (new or edit), the reject-reason form and the Throttle form."""
    app.view(REQUEST_FORM)(ack_first(app, request_form, check_request_form))
    app.view(REJECT_FORM)(ack_first(app, reject_reason))
    app.view(OVERRIDE_FORM)(ack_first(app, override_reason))
    app.view(THROTTLE_FORM)(ack_first(app, throttle_form, check_throttle_form))
