"""The migration report: one document both owners (and their auditors) can keep, from the database alone.

`build` reads the request, its approvals, its audit trail, its facts and its ownership records into a plain dict
(the JSON form, schema in docs/report.schema.json); `render` writes it as Markdown, JSON or CSV. Sections other
lanes fill (lag and compare facts `lag_*`, `compare_*`, `cutover_evidence`; audit rows with step `control` or
`alert`) are read generically and say "none recorded" when absent. Never a secret: the external ID is masked,
facts and audit rows hold none.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.i18n import _
from core.policies import mask
from storage import outbox, ownership, repository
from storage.models import Approval, AuditEntry, MigrationRequest

SCHEMA_VERSION = 1
FORMATS = ("md", "json", "csv")
READS = ("Describe", "Get", "List")
"""Actions that change nothing (a cloud change is any other call, e.g. Create*, Attach*, Isolate*)."""
NOT_CHANGES = frozenset({"AssumeRole", "GetCallerIdentity"})
CONTROL_STEPS = ("control", "alert")
CLOSEOUT_STEP = "closeout"
REVOKE_STEPS = ("revoking_access", "cancelling")
PLAN_FIELDS = ("source_account", "source_uin", "source_region", "source_instance", "target_account", "target_uin",
               "target_region", "target_instance", "db_type", "role_name", "executor", "migrate_type", "objects",
               "write_mode")
NONE = "none recorded"


def _at(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def is_change(action: str) -> bool:
    """Whether a cloud call changes something (not a read, not a session)."""
    return bool(action) and action not in NOT_CHANGES and not action.startswith(READS)


CALL_OUTCOMES = frozenset({"ok", "error"})
"""The outcome of an audited cloud call (core.cloud.CloudCall); any other is a decision or a summary row."""


def _cloud_call(entry: AuditEntry) -> bool:
    """Whether an audit entry records a cloud call that changed something: a call carries its account and the
    call's outcome; a person's decision (*Undo close-out*, *Throttle*) or the sweep's summary row
    (`remove_task`, `done`) is no cloud change."""
    return bool(entry.account) and entry.outcome in CALL_OUTCOMES and is_change(entry.action)


def build(session: Session, request_id: str) -> dict[str, Any] | None:
    """The report of one request as a JSON-ready dict (docs/report.schema.json), or None when it does not exist."""
    request = repository.get_request(session, request_id.strip().lower())
    if request is None:
        return None
    trail = list(repository.audit_trail(session, request.id))
    approvals = session.exec(select(Approval).where(Approval.request_id == request.id)
                             .order_by(col(Approval.approved_at))).all()
    facts = request.facts.stored()
    return {
        "schema_version": SCHEMA_VERSION,
        "request": _request(request),
        "plan": {"revision": request.revision, "approved_revision": _approved_revision(approvals),
                 "fields": {name: getattr(request, name) for name in PLAN_FIELDS},
                 "external_id": mask(request.external_id)},
        "approvals": [{"side": a.side, "user": a.user_id, "revision": a.revision, "at": _at(a.approved_at)}
                      for a in approvals],
        "cloud_changes": [_call(e) for e in trail if _cloud_call(e)],
        "verification": _verification(trail, facts),
        "cutover": {"lag": {k: v for k, v in facts.items() if k.startswith("lag_")},
                    "compare": {k: v for k, v in facts.items() if k.startswith("compare_")},
                    "evidence": facts.get("cutover_evidence")},
        "control": [_event(e) for e in trail if e.step in CONTROL_STEPS],
        "phases": _phases(trail),
        "closeout": _closeout(request, trail),
        "access_revocation": _revocation(session, request, trail),
    }


def _request(request: MigrationRequest) -> dict[str, Any]:
    return {"id": request.id, "requester": request.requester, "state": request.state, "job_id": request.job_id,
            "created_at": _at(request.created_at), "state_changed_at": _at(request.state_changed_at),
            "failed_step": request.failed_step, "last_error": request.last_error}


def _approved_revision(approvals: Sequence[Approval]) -> int | None:
    """The latest plan revision both sides approved, or None."""
    sides: dict[int, set[str]] = {}
    for approval in approvals:
        sides.setdefault(approval.revision, set()).add(approval.side)
    both = [revision for revision, seen in sides.items() if {"source", "target"} <= seen]
    return max(both) if both else None


def _call(entry: AuditEntry) -> dict[str, Any]:
    return {"at": _at(entry.at), "step": entry.step, "account": entry.account, "action": entry.action,
            "resource": entry.resource, "cloud_request_id": entry.cloud_request_id, "outcome": entry.outcome,
            "error_code": entry.error_code}


def _event(entry: AuditEntry) -> dict[str, Any]:
    return {"at": _at(entry.at), "step": entry.step, "actor": entry.actor, "action": entry.action,
            "outcome": entry.outcome, "detail": entry.detail}


def _verification(trail: Iterable[AuditEntry], facts: dict[str, Any]) -> dict[str, Any]:
    """The verification's result (passed, failed, not_run) and its failed or warning items."""
    outcomes = [e.outcome for e in trail if e.step == "verifying" and not e.action]
    result = "passed" if "done" in outcomes else "failed" if "check_failed" in outcomes else "not_run"
    items = [{"name": str(i.get("name") or i.get("step") or ""), "message": str(i.get("message") or ""),
              "fix": str(i.get("fix") or "")} for i in facts.get("failed_checks") or []]
    return {"result": result, "items": items}


def _phases(trail: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """Each step of the workflow (and close-out) with when its first and its last audit entry were written."""
    phases: dict[str, dict[str, Any]] = {}
    for entry in trail:
        if entry.step == "request" and not entry.action:
            continue
        phase = phases.setdefault(entry.step, {"phase": entry.step, "started_at": _at(entry.at)})
        phase["ended_at"] = _at(entry.at)
    return list(phases.values())


def _closeout(request: MigrationRequest, trail: Iterable[AuditEntry]) -> dict[str, Any]:
    facts = request.facts
    return {"phase": request.closeout, "job_id": request.job_id, "trade_status": facts.trade_status,
            "isolated_at": facts.isolated_at, "retain_until": facts.retain_until, "destroyed_at": facts.destroyed_at,
            "undone_by": facts.closeout_undone_by,
            "calls": [_call(e) for e in trail if e.step == CLOSEOUT_STEP and _cloud_call(e)]}


def _revocation(session: Session, request: MigrationRequest, trail: Iterable[AuditEntry]) -> dict[str, Any]:
    """What the request created or attached and whether each was given back, with the calls that did it."""
    records = [{"relation": r.relation, "kind": r.kind, "account_uin": r.account_uin, "name": r.name,
                "holder": r.holder, "recorded_at": _at(r.recorded_at), "released_at": _at(r.released_at)}
               for r in ownership.of_request(session, request.id)
               if r.relation != "releases"]  # a revoke's decision in progress, not a resource
    calls = [_call(e) for e in trail if e.step in REVOKE_STEPS and _cloud_call(e)]
    held = [r for r in records if r["relation"] in ("created", "attached") and r["released_at"] is None]
    return {"revoked": bool(records) and not held, "kept_for": request.facts.keep_role_for,
            "role_gone_proof": request.facts.role_gone_proof, "resources": records, "calls": calls}


def queue_summary(session: Session, request_id: str) -> bool:
    """Queue the summary card the thread gets once a request ended and its task's close-out settled, in the
    session's transaction (once per request: the outbox key); False when it was queued before."""
    report = build(session, request_id)
    if report is None:
        return False
    return outbox.enqueue(session, request_id, f"{request_id}:summary", "thread",
                          {"event": "summary", "text": summary_text(report)})


def summary_text(report: dict[str, Any]) -> str:
    """The summary card's text: who approved which revision, what changed, how it ended, where the full record is."""
    r, plan, closeout = report["request"], report["plan"], report["closeout"]
    approvals = ", ".join(f"{a['user']} ({a['side']})" for a in report["approvals"]
                          if a["revision"] == plan["approved_revision"]) or _("none")
    ended = next((p["ended_at"] for p in reversed(report["phases"])), None) or r["state_changed_at"]
    revoked = report["access_revocation"]
    lines = [
        _("*Migration record {id}*: {state}", id=r["id"], state=r["state"]),
        _("Plan revision {revision}, approved by {approvals}", revision=plan["approved_revision"] or "-",
          approvals=approvals),
        _("{count} cloud changes, each with its Tencent RequestId; verification {result}",
          count=len(report["cloud_changes"]), result=report["verification"]["result"]),
        _("From {start} to {end} (UTC)", start=r["created_at"], end=ended),
        _("Cross-account access: {state}", state=_("revoked") if revoked["revoked"] else _("not fully revoked")),
        _("DTS task {job_id}: {phase}", job_id=closeout["job_id"] or "-", phase=closeout["phase"] or "-")
        + (_(", kept until {until}", until=closeout["retain_until"]) if closeout["phase"] == "retained" else ""),
        _("Full report: `dtsbot report {id}` (--format md, json or csv)", id=r["id"]),
    ]
    return "\n".join(lines)


# -- rendering -----------------------------------------------------------------------------------------
def render(report: dict[str, Any], fmt: str) -> str:
    """The report as Markdown (`md`), JSON or CSV (one row per record, by section)."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if fmt == "csv":
        return _csv(report)
    if fmt == "md":
        return _markdown(report)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


CSV_COLUMNS = ("section", "at", "who", "account", "action", "resource", "cloud_request_id", "outcome", "detail")


def _csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    request = report["request"]
    writer.writerow({"section": "request", "at": request["created_at"], "who": request["requester"],
                     "resource": request["id"], "outcome": request["state"],
                     "detail": json.dumps(report["plan"], ensure_ascii=False)})
    for a in report["approvals"]:
        writer.writerow({"section": "approval", "at": a["at"], "who": a["user"], "action": f"approve_{a['side']}",
                         "detail": f"revision {a['revision']}"})
    for section, rows in (("cloud_change", report["cloud_changes"]), ("closeout", report["closeout"]["calls"]),
                          ("revocation", report["access_revocation"]["calls"])):
        for c in rows:
            writer.writerow({"section": section, "at": c["at"], "account": c["account"], "action": c["action"],
                             "resource": c["resource"], "cloud_request_id": c["cloud_request_id"],
                             "outcome": c["outcome"], "detail": c["error_code"] or ""})
    for item in report["verification"]["items"]:
        writer.writerow({"section": "verification", "resource": item["name"], "outcome": "failed",
                         "detail": f"{item['message']} — {item['fix']}"})
    for key, value in {**report["cutover"]["lag"], **report["cutover"]["compare"]}.items():
        writer.writerow({"section": "cutover", "resource": key, "detail": json.dumps(value, ensure_ascii=False)})
    for e in report["control"]:
        writer.writerow({"section": e["step"], "at": e["at"], "who": e["actor"], "action": e["action"],
                         "outcome": e["outcome"], "detail": e["detail"]})
    for p in report["phases"]:
        writer.writerow({"section": "phase", "at": p["started_at"], "resource": p["phase"],
                         "detail": f"until {p['ended_at']}"})
    return out.getvalue()


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines if len(lines) > 2 else [f"_{NONE}_"]


def _markdown(report: dict[str, Any]) -> str:
    r, plan = report["request"], report["plan"]
    lines = [f"# Migration report {r['id']}", "",
             (f"State **{r['state']}**, requested by {r['requester']} at {r['created_at']}; DTS task "
             f"{r['job_id'] or '(none)'}."), "", "## Request and plan as approved", "",
             (f"Plan revision {plan['revision']} (approved by both sides: {plan['approved_revision'] or 'no'}); "
             f"external ID {plan['external_id']}."), ""]
    lines += _table(("field", "value"), plan["fields"].items())
    lines += ["", "## Approvals", ""]
    lines += _table(("side", "who", "revision", "when"),
                    ((a["side"], a["user"], a["revision"], a["at"]) for a in report["approvals"]))
    lines += ["", "## Cloud changes", ""]
    lines += _calls(report["cloud_changes"])
    v = report["verification"]
    lines += ["", "## Verification", "", f"Result: {v['result']}.", ""]
    lines += _table(("item", "message", "fix"), ((i["name"], i["message"], i["fix"]) for i in v["items"]))
    cut = report["cutover"]
    lines += ["", "## Lag and compare at cutover", ""]
    lines += _table(("fact", "value"), [*cut["lag"].items(), *cut["compare"].items(),
                                        *((("cutover_evidence", json.dumps(cut["evidence"], ensure_ascii=False)),)
                                          if cut["evidence"] is not None else ())])
    lines += ["", "## Throttling and pauses", ""]
    lines += _table(("when", "step", "who", "action", "outcome", "detail"),
                    ((e["at"], e["step"], e["actor"], e["action"], e["outcome"], e["detail"])
                     for e in report["control"]))
    lines += ["", "## Phases", ""]
    lines += _table(("phase", "from", "to"), ((p["phase"], p["started_at"], p["ended_at"]) for p in report["phases"]))
    c = report["closeout"]
    lines += ["", "## Close-out", "",
              f"Phase {c['phase'] or NONE}; TradeStatus {c['trade_status'] or NONE}; isolated at "
              f"{c['isolated_at'] or '-'}, kept until {c['retain_until'] or '-'}, destroyed at "
              f"{c['destroyed_at'] or '-'}" + (f"; undone by {c['undone_by']}" if c["undone_by"] else "") + ".", ""]
    lines += _calls(c["calls"])
    a = report["access_revocation"]
    lines += ["", "## Access revocation", "",
              "Every role, policy and attachment the request made was given back." if a["revoked"] else
              f"Not all given back{' (role kept for ' + a['kept_for'] + ')' if a['kept_for'] else ''}.", ""]
    lines += _table(("relation", "kind", "account", "name", "holder", "released"),
                    ((x["relation"], x["kind"], x["account_uin"], x["name"], x["holder"], x["released_at"] or "no")
                     for x in a["resources"]))
    lines += [""]
    lines += _calls(a["calls"])
    return "\n".join(lines) + "\n"


def _calls(calls: Iterable[dict[str, Any]]) -> list[str]:
    return _table(("when", "account", "action", "resource", "RequestId", "outcome"),
                  ((c["at"], c["account"], c["action"], c["resource"], c["cloud_request_id"],
                    c["outcome"] + (f" {c['error_code']}" if c["error_code"] else "")) for c in calls))


AUDIT_COLUMNS = ("id", "at", "request_id", "actor", "step", "action", "account", "resource", "outcome",
                 "cloud_request_id", "error_code", "detail")


def audit_export(session: Session, since: datetime, fmt: str) -> str:
    """Every audit entry written since `since`, as JSON (a list) or CSV (`dtsbot audit`)."""
    entries = session.exec(select(AuditEntry).where(col(AuditEntry.at) >= since).order_by(col(AuditEntry.id))).all()
    rows = [{"id": e.id, "at": _at(e.at), "request_id": e.request_id, "actor": e.actor, "step": e.step,
             "action": e.action, "account": e.account, "resource": e.resource, "outcome": e.outcome,
             "cloud_request_id": e.cloud_request_id, "error_code": e.error_code, "detail": e.detail} for e in entries]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}: json or csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
