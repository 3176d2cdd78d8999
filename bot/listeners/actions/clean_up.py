"""*Clean up* (under a leftover the daily sweep posted): an approver of the side that owns the resource has the
bot remove it, after the sweep judges it again (the database or the cloud may have changed since)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context
from bot.sweeper import remove
from core.cloud import CloudClients
from core.engine import record_cloud_call
from core.i18n import _
from core.permissions import Action, Proposed, refusal
from core.sweep import SIDE, Found, judge, parse_ref
from storage import repository
from storage.db import session_scope

ACTIONS = {"source": Action.CLEAN_UP_SOURCE, "target": Action.CLEAN_UP_TARGET}


def clean_up(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    """Who may: permissions.CLEAN_UP_SOURCE / CLEAN_UP_TARGET, for the account that holds the resource."""
    services = from_context(context)
    user = body["user"]["id"]
    try:
        kind, account, region, name, policy_id, request_id = parse_ref(action.get("value", ""))
        holder = services.settings.account(account)
    except (ValueError, KeyError):
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(_("This leftover is unknown.")))
        return
    side = SIDE[kind]
    why = refusal(services.settings, ACTIONS[side], Proposed(user, account, account), user,
                  services.requests.memberships(user))
    item = Found(kind, account, holder.uin, name, request_id, region, policy_id)
    with session_scope(services.db) as session:
        if why:
            repository.audit(session, "sweep", "refused", None, actor=user[:32], action=ACTIONS[side].value,
                             resource=name[:256], detail=why[:2000])
        verdict = None if why else judge(session, [item])[0]
    if why or verdict is None:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(why or ""))
        return
    if not verdict.leftover:
        respond(response_type="ephemeral", replace_original=False,
                **blocks.reply(_("`{name}` is no longer a leftover ({why}): left as it is.", name=name,
                                 why=verdict.why)))
        return
    done = remove(services.db, CloudClients(services.settings, record_cloud_call), item, actor=user)
    respond(response_type="ephemeral", replace_original=False,
            **blocks.reply(_("{kind} `{name}` in {account}: {done}.", kind=kind.value, name=name, account=account,
                             done=done)))
