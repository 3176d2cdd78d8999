"""Cloud steps, one module each; `STEPS` maps a workflow state to the step the engine runs in it."""

from __future__ import annotations

from core.steps import Step
from handlers.authorize_source import authorize_source
from handlers.complete_task import complete_task
from handlers.configure_task import configure_task
from handlers.create_task import create_task
from handlers.grant_subaccount import grant_subaccount
from handlers.guided import guide_source_role, guide_subaccount_grant, guided_preflight, guided_revoke
from handlers.preflight import preflight
from handlers.revoke_access import revoke_access
from handlers.start_task import start_task
from handlers.stop_task import stop_task
from handlers.track_task import track_task
from handlers.verify_task import verify_task

STEPS: dict[str, Step] = {
    "authorizing_source": guide_source_role,  # the managed steps unless the account is guided
    "granting_subaccount": guide_subaccount_grant,
    "preflight": guided_preflight,
    "creating_task": create_task,
    "configuring": configure_task,
    "verifying": verify_task,
    "starting": start_task,
    "running": track_task,
    "completing": complete_task,
    "revoking_access": guided_revoke,
    "stopping_task": stop_task,
    "cancelling": guided_revoke,
}

__all__ = ["STEPS", "authorize_source", "grant_subaccount", "preflight", "revoke_access", "stop_task"]
"""The managed steps stay importable by name; STEPS runs them through handlers.guided."""
