"""What every cloud step shares: turning cloud errors into outcomes, and the source role's session.

Error policy (one place, so every step behaves the same): an error the code table (core/error_codes.py) decides
RETRY or REREAD (`core.diagnosis.is_transient`: rate limits, network and internal errors, a task status that
changed under the call) is re-raised and the engine runs the step again later with backoff — the step reads the
cloud first, so the re-run finishes what the first run began, or decides from the status it now reads. Any other
Tencent Cloud error, and a configuration gap, ends the step as FAILED with a diagnosis.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api, CloudClients, CloudConfigError, RoleSession
from core.diagnosis import diagnose, is_transient, render
from core.i18n import _
from core.logins import LoginUnavailable
from core.policies import role_arn
from core.steps import Diagnosis, Outcome, Step, StepResult
from storage.models import MigrationRequest


class AssumeRoleFailed(Exception):
    """STS AssumeRole of the source role refused (not transiently): diagnosed with the role's ARN."""

    def __init__(self, error: TencentCloudSDKException, arn: str) -> None:
        super().__init__(str(error))
        self.error, self.arn = error, arn


class NoTask(Exception):
    """A task step ran for a request that has no DTS task yet (`cloud_step` makes it a diagnosed FAILED)."""


def failed(diagnosis: Diagnosis) -> StepResult:
    """A FAILED result whose notice is the diagnosis, as the channel shows it."""
    return StepResult(Outcome.FAILED, diagnosis=diagnosis, notice=render(diagnosis))


def cloud_step(name: str) -> Callable[[Step], Step]:
    """Decorate a step: transient cloud errors propagate (retry later), others (and NoTask) become a diagnosed
    FAILED."""

    def wrap(step: Step) -> Step:
        @functools.wraps(step)
        def run(request: MigrationRequest, clients: CloudClients) -> StepResult:
            try:
                return step(request, clients)
            except AssumeRoleFailed as refused:
                return failed(diagnose(refused.error, name, executor=request.executor, role=refused.arn,
                                        sides=request))
            except NoTask:
                return failed(Diagnosis("NoTask", f"{name}: " + _("the request has no DTS task"),
                                        _("create_task has not run."), _("Retry the request from creating_task.")))
            except TencentCloudSDKException as error:
                if is_transient(error):
                    raise
                return failed(diagnose(error, name, executor=request.executor, sides=request))
            except LoginUnavailable as unavailable:
                if unavailable.cause is not None and is_transient(unavailable.cause):
                    raise unavailable.cause from None  # Secrets Manager busy: the engine tries again later
                return failed(missing_login(name, unavailable))
            except CloudConfigError as error:
                return failed(Diagnosis("Configuration", f"{name}: {error}", _("app.yaml lacks what this step needs."),
                                        _("Fix the key named above in app.yaml and restart the bot, then retry.")))

        return run

    return wrap


def missing_login(step: str, unavailable: LoginUnavailable) -> Diagnosis:
    """The diagnosis of a database login the step could not get (nothing is bought or sent without it)."""
    return Diagnosis("MissingDatabaseLogin", f"{step}: {unavailable}",
                     _("DTS needs a database account and password for each side of the migration."),
                     _("Add or fix the login named above (app.yaml `databases`, or its Secrets Manager secret), "
                       "then retry."))


def role_session(request: MigrationRequest, clients: CloudClients, renew: bool = False) -> RoleSession:
    """The source role's temporary credentials as the request's executor (target root or sub-account);
    `renew`: assume the role again even when cached credentials look fresh."""
    try:
        return clients.role_session(request.target_account, request.executor, request.source_uin,
                                    request.role_name, request.external_id, f"dtsbot-{request.id}", renew=renew)
    except TencentCloudSDKException as error:
        if is_transient(error):
            raise
        raise AssumeRoleFailed(error, role_arn(request.source_uin, request.role_name)) from error


def target_dts(request: MigrationRequest, clients: CloudClients) -> Api:
    """DTS in the target region as the identity that executes the task."""
    return clients.dts(request.target_account, request.target_region, request.executor)
