"""Cloud steps, one module each; `STEPS` maps each of the workflow's STEP_STATES to the step the engine runs
in it."""

from __future__ import annotations

from core.closeout import Phase
from core.steps import Step
from core.workflow import State
from handlers.authorize_source import authorize_source
from handlers.complete_task import complete_task
from handlers.configure_task import configure_task
from handlers.create_task import create_task
from handlers.destroy_task import destroy_task
from handlers.grant_subaccount import grant_subaccount
from handlers.guided import guide_source_role, guide_subaccount_grant, guided_preflight, guided_revoke
from handlers.isolate_task import isolate_task
from handlers.pause_task import continue_task, pause_task, paused_task
from handlers.preflight import preflight
from handlers.recover_task import recover_task
from handlers.resume_task import resume_task
from handlers.revoke_access import revoke_access
from handlers.start_task import start_task
from handlers.stop_task import stop_task
from handlers.throttle_task import throttle_task
from handlers.track_task import track_task
from handlers.verify_task import verify_task
from handlers.watch_cutover import watch_cutover

STEPS: dict[State, Step] = {
    State.AUTHORIZING_SOURCE: guide_source_role,  # the managed steps unless the account is guided
    State.GRANTING_SUBACCOUNT: guide_subaccount_grant,
    State.PREFLIGHT: guided_preflight,
    State.CREATING_TASK: create_task,
    State.CONFIGURING: configure_task,
    State.VERIFYING: verify_task,
    State.STARTING: start_task,
    State.RUNNING: track_task,
    State.READY_TO_COMPLETE: watch_cutover,
    State.COMPLETING: complete_task,
    State.REVOKING_ACCESS: guided_revoke,
    State.STOPPING_TASK: stop_task,
    State.RESUMING_TASK: resume_task,
    State.CANCELLING: guided_revoke,
    State.PAUSING: pause_task,
    State.PAUSED: paused_task,
    State.CONTINUING: continue_task,
    State.THROTTLING: throttle_task,
}

CLOSEOUT_STEPS: dict[Phase, Step] = {
    Phase.ISOLATING: isolate_task,
    Phase.DESTROYING: destroy_task,
    Phase.RECOVERING: recover_task,
}
"""The close-out phases' steps (core/closeout.py); `retained` waits out the retention without a call."""

__all__ = ["CLOSEOUT_STEPS", "STEPS", "authorize_source", "grant_subaccount", "preflight", "revoke_access", "stop_task"]
"""The managed steps stay importable by name; STEPS runs them through handlers.guided."""
