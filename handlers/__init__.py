"""Cloud steps, one module each; `STEPS` maps a workflow state to the step the engine runs in it."""

from __future__ import annotations

from handlers.authorize_source import authorize_source
from handlers.complete_task import complete_task
from handlers.configure_task import configure_task
from handlers.create_task import create_task
from handlers.grant_subaccount import grant_subaccount
from handlers.preflight import preflight
from handlers.revoke_access import revoke_access
from handlers.start_task import start_task
from handlers.step import Step
from handlers.stop_task import stop_task
from handlers.track_task import track_task
from handlers.verify_task import verify_task

STEPS: dict[str, Step] = {
    "authorizing_source": authorize_source,
    "granting_subaccount": grant_subaccount,
    "preflight": preflight,
    "creating_task": create_task,
    "configuring": configure_task,
    "verifying": verify_task,
    "starting": start_task,
    "running": track_task,
    "completing": complete_task,
    "revoking_access": revoke_access,
    "stopping_task": stop_task,
    "cancelling": revoke_access,
}

__all__ = ["STEPS"]
