"""*Approve (source owner)* / *Approve (target owner)*: record one side's approval of the plan shown."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks
from bot.listeners.events.app_home_opened import publish_home
from bot.services import from_context


def approve(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any],
            client: WebClient) -> None:
    """The button's value is `<request id>:<plan revision>`: an approval binds to the revision on screen.
    Clicked in the channel, the answer is an ephemeral; clicked on the App Home, the Home is published again
    with the answer on it."""
    services = from_context(context)
    side = action["action_id"].removeprefix("approve_")
    request_id, _, revision = action.get("value", "").partition(":")
    decision = services.requests.approve(request_id, side, body["user"]["id"],
                                         int(revision) if revision.isdigit() else None)
    if decision.changed:
        services.wake()
    if (body.get("view") or {}).get("type") == "home":
        publish_home(services, client, body["user"]["id"], decision.message)
        return
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
