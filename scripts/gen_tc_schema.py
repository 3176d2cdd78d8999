"""Derive the sandbox's compact parameter schema from the API reference that tccli ships.

tccli (`pip install tccli`, ~600 MB with the whole SDK) carries `tccli/services/<svc>/<version>/api.json`.
This script keeps only the actions the sandbox serves and, per action, each input parameter's type,
whether it is required, and (for objects / lists of objects) the members, recursively; under `outputs`, the
same for each field of the action's response (the sandbox's own tests check its answers against them). Run it with a Python
that has tccli:

    /tmp/tccli-venv/bin/python scripts/gen_tc_schema.py            # writes sandbox/tencentcloud/api_schema.json
    /tmp/tccli-venv/bin/python scripts/gen_tc_schema.py --stdout   # prints it instead

Only the standard library is used, so the output is the same whichever Python runs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "sandbox" / "tencentcloud" / "api_schema.json"

SERVED: dict[str, tuple[str, list[str]]] = {
    "cam": ("v20190116", [
        "CreateRole", "GetRole", "DescribeRoleList", "DeleteRole", "UpdateAssumeRolePolicy",
        "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies", "CreatePolicy", "GetPolicy",
        "ListPolicies", "DeletePolicy", "AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserAllPolicies",
        "GetUser", "ListUsers",
    ]),
    "sts": ("v20180813", ["AssumeRole", "GetCallerIdentity"]),
    "dts": ("v20211206", [
        "CreateMigrationService", "DescribeMigrationJobs", "DescribeMigrationDetail", "ModifyMigrationJob",
        "DescribeMigrateDBInstances", "CreateMigrateCheckJob", "DescribeMigrationCheckJob", "StartMigrateJob",
        "CompleteMigrateJob", "StopMigrateJob", "IsolateMigrateJob", "DestroyMigrateJob", "ResumeMigrateJob",
        "CreateCompareTask", "StartCompare", "DescribeCompareTasks", "DescribeCompareReport",
        "DescribeCompareDiffItems", "StopCompare", "DeleteCompareTask",
        "RecoverMigrateJob",
        "PauseMigrateJob", "ContinueMigrateJob", "ModifyMigrateRateLimit",
    ]),
    "mongodb": ("v20190725", ["DescribeDBInstances"]),
    "redis": ("v20180412", ["DescribeInstances"]),
    "ssm": ("v20190923", ["CreateSecret", "PutSecretValue", "ListSecretVersionIds", "GetSecretValue"]),
}

# api.json (type, member) -> the sandbox's scalar type names
_SCALARS = {"string": "string", "int64": "int", "uint64": "uint", "bool": "bool", "float": "float",
            "double": "float", "datetime": "string", "date": "string", "timestamp": "string"}


def tccli_services_dir() -> Path:
    """Where tccli's per-service api.json files live in this Python."""
    spec = importlib.util.find_spec("tccli")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("tccli is not importable here: run this script with the Python that has tccli")
    return Path(next(iter(spec.submodule_search_locations))) / "services"


def _type(member: str, objects: dict[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    if member in objects:
        if member in seen:  # recursive structure: accept any object below this depth
            return {"type": "object"}
        return {"type": "object", "members": _members(objects[member], objects, (*seen, member))}
    return {"type": _SCALARS.get(member, "string")}


def _members(obj: dict[str, Any], objects: dict[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in obj.get("members", []):
        if m["type"] == "list":
            schema: dict[str, Any] = {"type": "list", "item": _type(m["member"], objects, seen)}
        elif m["type"] == "object":
            schema = _type(m["member"], objects, seen)
        else:
            schema = _type(m["member"] if m["member"] in _SCALARS else m["type"], objects, seen)
            if m["type"] == "int" and schema["type"] == "string":
                schema = {"type": "int"}
        schema["required"] = bool(m.get("required"))
        out[m["name"]] = schema
    return out


def build(services_dir: Path) -> dict[str, Any]:
    """The compact schema: {service: {version, actions: {action: {param: schema}}, outputs: {action: ...}}}."""
    result: dict[str, Any] = {}
    for service, (version, actions) in SERVED.items():
        api = json.loads((services_dir / service / version / "api.json").read_text())
        objects = api["objects"]
        result[service] = {
            "version": api["metadata"]["apiVersion"],
            "actions": {a: _members(objects[api["actions"][a]["input"]], objects, ()) for a in actions},
            "outputs": {a: _members(objects[api["actions"][a]["output"]], objects, ()) for a in actions},
        }
    return result


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the schema instead of writing it")
    args = parser.parse_args(argv)
    text = render(build(tccli_services_dir()))
    if args.stdout:
        sys.stdout.write(text)
    else:
        OUT.write_text(text)
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
