"""The sweep's rules (core/sweep.py) on a database that knows some of the tagged resources: a leftover is what an
unknown or finished request made (by its records); a request still unfinished, a role another unfinished request
uses, a task close-out still holds, and a resource the records do not show stay."""

from __future__ import annotations

from engineflow import FIELDS

from core.steps import Owned
from core.sweep import Found, Kind, judge, parse_ref
from storage import ownership, repository
from storage.db import session_scope

SRC, TGT = FIELDS["source_uin"], FIELDS["target_uin"]


def add(session, state: str, closeout: str | None = None, job_id: str | None = None, owned=()) -> str:
    request, _ = repository.create_request(session, FIELDS, "U0REQUESTER")
    repository.update_request(session, request, state=state, closeout=closeout, job_id=job_id)
    ownership.record(session, request.id, owned, ())
    return request.id


def test_what_is_a_leftover(engine):
    with session_scope(engine) as session:
        done = add(session, "succeeded", "destroyed", "dts-done0001",
                   [Owned("created", "role", SRC, "role-done"), Owned("created", "policy", TGT, "grant-done")])
        kept = add(session, "succeeded", "retained", "dts-kept0001")
        running = add(session, "running", None, "dts-runs0001", [Owned("created", "role", SRC, "role-runs")])
        shared = add(session, "cancelled", "no_task", None, [Owned("created", "role", SRC, "role-shared")])
        add(session, "running", None, None, [Owned("uses", "role", SRC, "role-shared")])
        found = [
            Found(Kind.ROLE, "shop-prod", SRC, "role-done", done),
            Found(Kind.GRANT, "analytics", TGT, "grant-done", done, policy_id=7),
            Found(Kind.TASK, "analytics", TGT, "dts-done0001", done, "ap-guangzhou"),
            Found(Kind.TASK, "analytics", TGT, "dts-kept0001", kept, "ap-guangzhou"),
            Found(Kind.ROLE, "shop-prod", SRC, "role-runs", running),
            Found(Kind.ROLE, "shop-prod", SRC, "role-shared", shared),
            Found(Kind.ROLE, "shop-prod", SRC, "role-not-recorded", done),
            Found(Kind.ROLE, "shop-prod", SRC, "role-lost", "mr-lost0001"),
        ]
        verdicts = {v.found.name: v for v in judge(session, found)}
    assert {name for name, v in verdicts.items() if v.leftover} == {"role-done", "grant-done", "dts-done0001",
                                                                    "role-lost"}
    assert "close-out is retained" in verdicts["dts-kept0001"].why
    assert "is running" in verdicts["role-runs"].why
    assert "still uses the role" in verdicts["role-shared"].why
    assert "do not say it created" in verdicts["role-not-recorded"].why
    assert "unknown to this database" in verdicts["role-lost"].why


def test_a_reference_reads_back():
    item = Found(Kind.GRANT, "analytics", TGT, "dtsbot-grant", "mr-abc234", "", 42)
    assert parse_ref(item.ref) == (Kind.GRANT, "analytics", "", "dtsbot-grant", 42, "mr-abc234")
