"""Guided mode's steps: where an account is `access: guided`, the CAM step becomes the owner's steps.

Each function stands in the engine's step table for the managed step of the same state and hands over to it for
a managed account. For a guided one it calls no CAM API (the bot has no CAM keys there): it posts the steps
(`core.guided`, external ID masked; the full text goes only to that side's approvers, on request) and moves
the request to awaiting_owner, from where an approver's *verify* leads on. The preflight — AssumeRole from the
target side, then DTS lists the source — is the proof; a failure the owner can fix comes back with its
diagnosis and the fix in the same three forms. A guided role or grant is never touched by the bot: at the end
the owner gets the deletion steps and a *Role deleted — check* button.
"""

from __future__ import annotations

from dataclasses import replace

from core import guided, policies
from core.cloud import CloudClients
from core.diagnosis import MISSING_ROLE, denies_assume
from core.diagnosis import render as render_diagnosis
from core.i18n import _
from core.notices import GRANT_VERIFY, GUIDED_REVEAL, GUIDED_VERIFY, ROLE_DELETED_CHECK
from core.steps import Diagnosis, Outcome, StepResult
from core.workflow import State
from handlers.authorize_source import authorize_source
from handlers.grant_subaccount import grant_subaccount
from handlers.preflight import preflight
from handlers.revoke_access import revoke_access, unrecorded_task
from storage.models import MigrationRequest

ROOT = "root"
_SOURCE_FAQ = (*MISSING_ROLE, "InternalError.InternalInnerCommonError")


def is_guided(clients: CloudClients, account: str) -> bool:
    """Whether the configured account's owner does its CAM steps (`accounts[].access: guided`)."""
    return clients.settings.account(account).access == "guided"


def _after_source(request: MigrationRequest) -> State:
    return State.PREFLIGHT if request.executor == ROOT else State.GRANTING_SUBACCOUNT


def _awaiting(side: str, then: State, notice: str, diagnosis: Diagnosis | None = None) -> StepResult:
    verify = GUIDED_VERIFY if side == "source" else GRANT_VERIFY
    return StepResult(Outcome.DONE, next_state=State.AWAITING_OWNER.value, notice=notice, diagnosis=diagnosis,
                      facts={"guided_side": side, "guided_next": then.value}, actions=(verify, GUIDED_REVEAL))


def _masked_role_steps(request: MigrationRequest) -> guided.GuidedSteps:
    return guided.source_role(request, policies.mask(request.external_id) if request.external_id else None)


def _secret_note(request: MigrationRequest) -> str:
    if not request.external_id:
        return ""
    return "\n" + _("The external ID is shown masked (`{external_id}`): press *Show me the full steps* for the exact "
                    "values (only you see them).", external_id=policies.mask(request.external_id))


def guide_source_role(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """authorizing_source: the bot's CAM step for a managed source; the owner's steps for a guided one."""
    if not is_guided(clients, request.source_account):
        return authorize_source(request, clients)
    text = (_("{account} is guided: its owner creates the role (the bot holds no keys there).",
              account=request.source_account)
            + f"\n{guided.render(_masked_role_steps(request))}{_secret_note(request)}\n"
            + _("Then press *Role created — verify*: the bot assumes the role from the target side."))
    return _awaiting("source", _after_source(request), text)


def guide_subaccount_grant(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """granting_subaccount: the bot's grant for a managed target; the target owner's steps for a guided one."""
    if request.executor == ROOT or not is_guided(clients, request.target_account):
        return grant_subaccount(request, clients)
    text = (_("{account} is guided: its owner grants sub-account {subaccount} `sts:AssumeRole` on the role.",
              account=request.target_account, subaccount=request.executor)
            + f"\n{guided.render(guided.target_grant(request))}\n" + _("Then press *Grant created — verify*."))
    return _awaiting("target", State.PREFLIGHT, text)


def _owner_of(request: MigrationRequest, clients: CloudClients, diagnosis: Diagnosis) -> str | None:
    """Which guided side's owner can fix a failed preflight (None: a managed side or not a CAM matter)."""
    code, text = diagnosis.code, f"{diagnosis.what} {diagnosis.why}".lower()
    assume_denied = denies_assume(code) and "sts:assumerole" in text
    if request.executor != ROOT and assume_denied:
        return "target" if is_guided(clients, request.target_account) else None
    if code in _SOURCE_FAQ or "role not exist" in text or assume_denied:
        return "source" if is_guided(clients, request.source_account) else None
    return None


def _fix_steps(request: MigrationRequest, side: str, diagnosis: Diagnosis) -> guided.GuidedSteps:
    if side == "target":
        return guided.target_grant(request)
    steps = _masked_role_steps(request)
    if diagnosis.code.startswith("AuthFailure") or denies_assume(diagnosis.code):  # trusts someone else
        return guided.source_trust_fix(request, policies.mask(request.external_id) if request.external_id else None)
    if diagnosis.code == "InternalError.InternalInnerCommonError":  # the role exists; its policies are missing
        attach = tuple(c for c in steps.calls if c.action == "AttachRolePolicy")
        return replace(steps, title=_("Attach the read-only policies to `{role}`", role=request.role_name),
                       console=steps.console[2:3], calls=attach)
    return steps


def guided_preflight(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """preflight, unchanged; when it fails for a reason a guided owner can fix, back to that owner with the
    diagnosis and the fix in the three forms (nothing has been bought)."""
    result = preflight(request, clients)
    if result.outcome is not Outcome.FAILED or result.diagnosis is None:
        return result
    side = _owner_of(request, clients, result.diagnosis)
    if side is None:
        return result
    steps = _fix_steps(request, side, result.diagnosis)
    text = (f"{render_diagnosis(result.diagnosis)}\n" + _("Nothing was bought. The fix:") + f"\n{guided.render(steps)}"
            f"{_secret_note(request) if side == 'source' else ''}\n" + _("Then press verify again."))
    return _awaiting(side, State.PREFLIGHT, text, result.diagnosis)


def deletion_text(request: MigrationRequest, clients: CloudClients) -> str:
    """What the guided owners delete by hand when the request ends (empty when nothing is guided)."""
    parts = []
    if is_guided(clients, request.source_account):
        parts.append(guided.render(guided.source_role_deletion(request)))
    if request.executor != ROOT and is_guided(clients, request.target_account):
        parts.append(guided.render(guided.target_grant_deletion(request)))
    return "\n".join(parts)


def guided_revoke(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """revoking_access / cancelling: the bot revokes what it manages and tells the guided owners what to delete;
    it never touches a guided role or grant."""
    manual = deletion_text(request, clients)
    if not manual:
        return revoke_access(request, clients)
    managed_grant = request.executor != ROOT and not is_guided(clients, request.target_account)
    managed = not is_guided(clients, request.source_account) or managed_grant
    result = revoke_access(request, clients) if managed else StepResult(Outcome.DONE,
                                                                        facts=unrecorded_task(request, clients))
    if result.outcome is not Outcome.DONE:
        return result
    head = f"{result.notice}\n" if result.notice else ""
    actions = (ROLE_DELETED_CHECK,) if is_guided(clients, request.source_account) else ()
    return replace(result, actions=actions, notice=(
        head + _("The bot leaves what the owners made by hand untouched. Close the cross-account access now:")
        + f"\n{manual}" + ("\n" + _("Then press *Role deleted — check*: the bot asks STS for the role as {account} "
                                    "root; only \"the role does not exist\" counts as closed.",
                                    account=request.target_account) if actions else "")))
