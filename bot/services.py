"""What listeners and the notifier share: the settings, the request operations, and rendering from the database.

Bolt hands listeners a `context`; a middleware in bot/app.py puts one `Services` into it under `SERVICES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot import blocks
from core.admission import RequestAdmission
from core.config import Settings
from core.plan import plan_for
from core.requests import MigrationRequests
from storage import repository
from storage.db import session_scope
from storage.models import MigrationRequest

SERVICES = "dtsbot"


@dataclass
class Services:
    """The bot's dependencies as listeners see them; `wake()` tells the notifier new notices are queued."""

    settings: Settings
    db: Engine
    requests: MigrationRequests
    wake: Callable[[], None] = field(default=lambda: None)
    unrecorded: Callable[[], None] = field(default=lambda: None)
    """Counts a click or command the database failed to record (bot/listeners/acks.py)."""
    admission: RequestAdmission = field(init=False)
    """Where and how often people may open new requests (the slash command asks it first)."""

    def __post_init__(self) -> None:
        self.admission = RequestAdmission(self.settings)

    def approved_by(self, request: MigrationRequest) -> dict[str, str]:
        """Who approved each side of the current plan revision."""
        with session_scope(self.db) as session:
            return {side: a.user_id for side, a in repository.approvals_for(session, request).items()}

    def request_message(self, request: MigrationRequest,
                        approved_by: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The request message of `request` with `approved_by` (storage.outbox.shown: what the thread announced;
        read now when None)."""
        approved = self.approved_by(request) if approved_by is None else approved_by
        plan = plan_for(request, self.settings, source_approved="source" in approved)
        held = self.requests.source_holds(request)
        return blocks.request_message(request, plan, approved, self.settings, held.reading, held.writing)

    def request_status(self, request: MigrationRequest) -> dict[str, Any]:
        """The request message without buttons, for `/dts-migrate status ID`."""
        approved = self.approved_by(request)
        plan = plan_for(request, self.settings, source_approved="source" in approved)
        held = self.requests.source_holds(request)
        return blocks.request_status(request, plan, approved, self.settings, held.reading, held.writing)


def from_context(context: Mapping[str, Any]) -> Services:
    """The Services a listener's Bolt context carries."""
    return context[SERVICES]
