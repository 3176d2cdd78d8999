"""Guided mode's buttons: *Role created — verify* (and *Grant created — verify*), *Show me the full steps*,
*Role deleted — check*. Only the approvers of the side whose owner has the steps may press them."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import Services, from_context
from core import guided, i18n, permissions, policies
from core.cloud import CloudClients
from core.i18n import _
from core.workflow import State
from handlers.verify_guided_role import check_role_deleted
from storage.models import MigrationRequest


def _answer(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(text))


def _refusal(services: Services, request: MigrationRequest | None, side: str, user: str) -> str | None:
    """Why `user` may not press a guided button of `side` (permissions.GUIDED_*), or None when they may."""
    if request is None:
        return _("No such request.")
    return permissions.refusal(services.settings, permissions.guided_action(side), request, user,
                               services.requests.members_of)


def verify_owner_steps(action: dict[str, Any], body: dict[str, Any], respond: Respond,
                       context: dict[str, Any]) -> None:
    """The owner says the CAM steps are done: the engine runs the preflight (and the grant step) next."""
    services = from_context(context)
    decision = services.requests.verify_owner_steps(action.get("value", ""), body["user"]["id"])
    if decision.changed:
        services.wake()
    _answer(respond, decision.message)


def reveal_steps(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    """The steps with the full external ID and the exact trust policy, to that side's approvers only."""
    services = from_context(context)
    user = body["user"]["id"]
    request = services.requests.get(action.get("value", ""))
    side = (request.facts.guided_side if request else None) or "source"
    refusal = _refusal(services, request, side, user)
    if refusal is not None or request is None:
        _answer(respond, refusal or _("No such request."))
        return
    if request.state != State.AWAITING_OWNER:
        _answer(respond, _("{id} is {state}: it no longer waits for the owner's steps.", id=request.id,
                           state=request.state))
        return
    if side == "target":
        steps = guided.render(guided.target_grant(request))
    else:
        trust = policies.document(policies.trust_policy(request.target_uin, request.external_id))
        steps = (f"{guided.render(guided.source_role(request, request.external_id))}\n"
                 + _("*Trust policy* (exactly):") + f"\n```\n{trust}\n```\n"
                 + _("External ID: `{external_id}`", external_id=request.external_id or _("(none)")))
    respond(response_type="ephemeral", replace_original=False,
            **blocks.long_reply(_("Only you see this.") + f" {steps}"))


def check_deleted(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    """Prove the guided role is gone: STS must answer the target root that the role does not exist; the thread
    hears a proof, the audit records every answer (its code and RequestId)."""
    services = from_context(context)
    user = body["user"]["id"]
    request = services.requests.get(action.get("value", ""))
    refusal = _refusal(services, request, "source", user)
    if refusal is not None or request is None:
        _answer(respond, refusal or _("No such request."))
        return
    with i18n.speaking(i18n.channel_language()):  # the result goes to the thread too
        result = check_role_deleted(request, CloudClients(services.settings))
    outcome = {True: "ok", False: "still_exists", None: "not_proved"}[result.closed]
    services.requests.role_deleted_checked(request.id, user, outcome, result.code, result.request_id,
                                           result.text if result.closed else None)
    if result.closed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.long_reply(result.text))
