"""Button clicks, by action_id: each acked at once, its work done after the ack (bot/listeners/acks.py)."""

from collections.abc import Callable

from slack_bolt import App

from bot.listeners.acks import ack_first
from bot.listeners.actions.approve import approve
from bot.listeners.actions.cancel import cancel
from bot.listeners.actions.check_data import check_data
from bot.listeners.actions.clean_up import clean_up
from bot.listeners.actions.edit import edit
from bot.listeners.actions.guided import check_deleted, reveal_steps, verify_owner_steps
from bot.listeners.actions.override_gate import override_gate
from bot.listeners.actions.reject import reject
from bot.listeners.actions.resume import DECISIONS, resume
from bot.listeners.actions.snooze import snooze
from bot.listeners.actions.throttle import throttle
from bot.listeners.actions.undo_closeout import undo_closeout

LISTENERS: dict[str, Callable[..., None]] = {
    "approve_source": approve, "approve_target": approve, "reject": reject, "edit": edit, "cancel": cancel,
    **{decision: resume for decision in DECISIONS},
    "guided_verify": verify_owner_steps, "grant_verify": verify_owner_steps, "guided_reveal": reveal_steps,
    "role_deleted_check": check_deleted, "check_data": check_data, "override_gate": override_gate,
    "undo_closeout": undo_closeout, "clean_up": clean_up,
    "throttle": throttle, "snooze_alerts": snooze,
}
"""The request message's buttons, the cancel confirmation and the notices' buttons, by action_id."""


def register(app: App) -> None:
    """Every button's listener, acked first."""
    for action_id, listener in LISTENERS.items():
        app.action(action_id)(ack_first(app, listener))
