"""What a cloud step reports back to the workflow engine.

Steps live in `handlers/` and are plain functions `(request, clients) -> StepResult`; the engine (core) maps
the outcome to the next state, stores `facts`, and queues `notice` for the channel. Nothing here holds secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.cloud import CloudClients
from storage.models import MigrationRequest


class Outcome(StrEnum):
    DONE = "done"  # the step's goal holds in the cloud; go to the next state
    WAIT = "wait"  # the cloud is still working (check running, task migrating): ask again later
    FAILED = "failed"  # a diagnosed failure; the request goes to failed (retryable by people)
    CHECK_FAILED = "check_failed"  # DTS verification did not pass: the request goes to verify_failed


@dataclass(frozen=True)
class Diagnosis:
    """A failure a person can act on: what happened, why, what to do, and the cloud's RequestId."""

    code: str
    what: str
    why: str
    fix: str
    request_id: str | None = None
    reach: str | None = None
    """The side ("target" or "source") whose approvers must act: the thread names them and each gets a DM."""


@dataclass(frozen=True)
class Owned:
    """What the request did to a cloud resource, recorded with the step's outcome (storage.ownership).

    relation: created (a role or policy), attached (a policy to a role or sub-account), uses (a role it relies
    on); kind: role, role_policy, policy, user_policy; holder: the role or sub-account an attachment is on."""

    relation: str
    kind: str
    account_uin: str
    name: str
    holder: str = ""
    policy_id: int | None = None


@dataclass(frozen=True)
class StepResult:
    """Outcome of one run of a step; `facts` are merged into the request: job_id and progress into their
    columns, every other key one of `storage.facts.Facts` (an unknown key fails the write)."""

    outcome: Outcome
    facts: dict[str, Any] = field(default_factory=dict)
    notice: str | None = None
    diagnosis: Diagnosis | None = None
    next_state: str | None = None
    """Overrides the default next state (e.g. running → ready_to_complete instead of revoking_access)."""
    retry_after: float | None = None
    owned: tuple[Owned, ...] = ()
    """Resources this run created, attached or started to use (recorded in the same transaction)."""
    released: tuple[Owned, ...] = ()
    """Resources this run deleted, detached or stopped using."""
    private: str | None = None
    """A value the fix needs that the channel sees only masked ("trust_policy": the exact trust document, sent
    ephemerally to the source approvers only)."""
    actions: tuple[str, ...] = ()
    """Buttons under the step's notice instead of the default ones of the state it leads to (guided mode)."""
    reach: str | None = None
    """A waiting step's notice that needs people: "source", "target" or "both" sides' approvers are named in it."""
    refresh: bool = False
    """Re-render the request message although the step gave no notice (the lag or the gate's evidence moved)."""


Step = Callable[[MigrationRequest, CloudClients], StepResult]
"""A cloud step (handlers/): reads the cloud, then does what is missing; run possibly more than once."""
