"""The daily sweep (`sweep.enabled`): once a day, from `sweep.hour` UTC, list the tagged leftovers and post them to
the channel, one *Clean up* button each (the owning side's approvers, bot/listeners/actions/clean_up.py).

Once per day across replicas: the run writes an audit entry (step `sweep`, action `daily`) first, in a
transaction serialised with the other replicas' (storage.db.serialize), and a replica that finds today's entry
does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock, PlainTextObject
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.blocks import button, escape, render, section
from bot.sweeper import STEP, Swept, sweep
from core.cloud import CloudClients
from core.config import Settings
from core.i18n import _
from storage.db import serialize, session_scope
from storage.models import AuditEntry, utcnow

log = logging.getLogger(__name__)
SHOWN = 20
"""Leftovers with a button in one message (Slack's 50 blocks); `dtsbot sweep` lists them all."""
CLEAN_UP = "clean_up"


def leftover_blocks(results: list[Swept]) -> dict:
    """The channel message: a header, then each leftover with its *Clean up* button."""
    leftovers = [s for s in results if s.verdict.leftover]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_("dtsbot sweep: {count} leftovers",
                                                                    count=len(leftovers))))]
    for swept in leftovers[:SHOWN]:
        f = swept.verdict.found
        blocks.append(section(_("*{kind}* `{name}` in {account} ({why})", kind=f.kind.value, name=escape(f.name),
                                account=escape(f.account), why=escape(swept.verdict.why))))
        blocks.append(ActionsBlock(elements=[button(CLEAN_UP, _("Clean up"), f.ref, "danger")]))
    if len(leftovers) > SHOWN:
        blocks.append(section(_("… and {more} more: run `dtsbot sweep` to list them all.",
                                more=len(leftovers) - SHOWN)))
    return render(blocks, _("dtsbot sweep: {count} leftovers", count=len(leftovers)))


def daily_sweep(settings: Settings, db: Engine, client: WebClient, clients: CloudClients,
                clock: Callable[[], datetime] = utcnow) -> bool:
    """Run the day's sweep and post its leftovers, unless it ran today or it is before `sweep.hour`; True if run."""
    now = clock()
    if now.hour < settings.sweep.hour:
        return False
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with session_scope(db) as session:
        serialize(session, "daily sweep")  # two replicas asking at once: one runs it, the other finds its entry
        if session.exec(select(AuditEntry.id).where(AuditEntry.step == STEP, AuditEntry.action == "daily",
                                                    col(AuditEntry.at) >= today)).first() is not None:
            return False
        session.add(AuditEntry(step=STEP, outcome="started", action="daily", detail=f"sweep of {today:%Y-%m-%d}"))
    results = sweep(db, clients).results
    if any(s.verdict.leftover for s in results):
        client.chat_postMessage(channel=settings.slack.channel, **leftover_blocks(results))
    log.info("daily sweep: %d tagged, %d leftover", len(results), sum(s.verdict.leftover for s in results))
    return True
