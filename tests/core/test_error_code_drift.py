"""Drift check: every error code Tencent documents for the services the bot calls has a decision in
core/error_codes.py (retry, re-read, diagnose or fail), as the enum drift test does for DTS's statuses.

The codes come from the installed SDK's `errorcodes.py` of DTS, CAM and STS, from the codes the SDK's common
package raises itself, and from Tencent's common error codes (the list every API 3.0 product's error-code page
repeats; the SDK ships no file of them). When `DTSBOT_TCCLI_PYTHON` names a Python with tccli (CI installs one,
with the newest full SDK), that SDK's files are read too, so a code a newer SDK adds fails here before anyone
upgrades.

How it was checked to fail: deleting the `"InternalError.ParseBinlogError"` row made
`test_every_documented_code_has_a_decision[dts]` fail with `dts documents codes without a decision in
core/error_codes.py: ['InternalError.ParseBinlogError']`; `test_a_removed_row_is_reported` keeps that property.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path

import pytest

from core.error_codes import ROWS, Decision, ErrorRow, row_for, row_key

SERVICES = {"dts": "dts/v20211206", "cam": "cam/v20190116", "sts": "sts/v20180813"}
COMMON_CODES = (
    "ActionOffline", "AuthFailure.InvalidAuthorization", "AuthFailure.InvalidSecretId", "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureExpire", "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure", "AuthFailure.UnauthorizedOperation", "DryRunOperation", "FailedOperation",
    "InternalError", "InvalidAction", "InvalidParameter", "InvalidParameterValue", "InvalidRequest",
    "IpInBlacklist", "IpNotInWhitelist", "LimitExceeded", "MissingParameter", "NoSuchProduct", "NoSuchVersion",
    "RequestLimitExceeded", "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "RequestLimitExceeded.IPLimitExceeded", "RequestLimitExceeded.UinLimitExceeded", "RequestSizeLimitExceeded",
    "ResourceInUse", "ResourceInsufficient", "ResourceNotFound", "ResourceUnavailable", "ResponseSizeLimitExceeded",
    "ServiceUnavailable", "UnauthorizedOperation", "UnknownParameter", "UnsupportedOperation",
    "UnsupportedProtocol", "UnsupportedRegion",
)
"""Tencent's common error codes ("公共错误码", e.g. https://cloud.tencent.com/document/api/571/82085)."""
RAISED = re.compile(r"""(?:TencentCloudSDKException|SDKError)\(\s*["']([A-Za-z][A-Za-z.]*)["']""")


def codes_in(errorcodes: Path) -> list[str]:
    """The codes an SDK `errorcodes.py` defines (its module-level string constants)."""
    tree = ast.parse(errorcodes.read_text(encoding="utf-8"))
    return [node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)]


def sdk_root() -> Path:
    spec = find_spec("tencentcloud")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def sdk_raised(common: Path) -> set[str]:
    """The codes the SDK's common package raises itself (network errors, client errors, its retry list)."""
    found: set[str] = set()
    for source in common.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= set(RAISED.findall(text))
        if source.name == "retry.py":
            found |= set(re.findall(r'"((?:ClientNetwork|ServerNetwork|RequestLimit)[A-Za-z.]*)"', text))
    return found


def tccli_sdk_root() -> Path | None:
    """The `tencentcloud` package of the Python `DTSBOT_TCCLI_PYTHON` names (tccli's full SDK), if any."""
    python = os.environ.get("DTSBOT_TCCLI_PYTHON")
    if not python:
        return None
    where = subprocess.run([python, "-c", "import os, tencentcloud; print(os.path.dirname(tencentcloud.__file__))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    return Path(where)


def undecided(codes: list[str] | set[str], rows: Mapping[str, ErrorRow] = ROWS) -> list[str]:
    """Documented codes no row decides (neither their own nor a `Prefix.*` row)."""
    return sorted(code for code in codes if row_key(code, rows) is None)


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_code_has_a_decision(service: str) -> None:
    codes = codes_in(sdk_root() / SERVICES[service] / "errorcodes.py")
    assert len(codes) > 15, f"could not read {service}'s error codes"
    gaps = undecided(codes)
    assert not gaps, f"{service} documents codes without a decision in core/error_codes.py: {gaps}"


def test_the_common_codes_and_the_sdks_own_have_a_decision() -> None:
    raised = sdk_raised(sdk_root() / "common")
    assert {"ClientNetworkError", "ServerNetworkError", "RequestLimitExceeded"} <= raised
    gaps = undecided(set(COMMON_CODES) | raised)
    assert not gaps, f"common codes without a decision in core/error_codes.py: {gaps}"


@pytest.mark.skipif(tccli_sdk_root() is None, reason="needs DTSBOT_TCCLI_PYTHON (tccli's full SDK), as CI sets")
@pytest.mark.parametrize("service", SERVICES)
def test_the_newest_sdk_documents_no_code_without_a_decision(service: str) -> None:
    root = tccli_sdk_root()
    assert root is not None
    gaps = undecided(codes_in(root / SERVICES[service] / "errorcodes.py"))
    assert not gaps, f"the newer SDK's {service} documents codes without a decision: {gaps}"


def test_a_removed_row_is_reported() -> None:
    rows = dict(ROWS)
    del rows["InternalError.ParseBinlogError"]
    codes = codes_in(sdk_root() / SERVICES["dts"] / "errorcodes.py")
    assert undecided(codes, rows) == ["InternalError.ParseBinlogError"]


@pytest.mark.parametrize("prefix", ["InternalError", "FailedOperation", "OperationDenied", "LimitExceeded",
                                    "ResourceNotFound", "ResourceUnavailable", "UnauthorizedOperation"])
def test_classes_whose_codes_mean_different_things_have_no_catch_all_row(prefix: str) -> None:
    """A new InternalError.* (say, another balance code) must fail the drift test, not be retried by a prefix."""
    assert f"{prefix}.*" not in ROWS
    assert row_key(f"{prefix}.SomethingNew") is None


def test_every_diagnosis_and_failure_says_why_and_what_to_do() -> None:
    for key, row in ROWS.items():
        assert row.why and row.fix, key
        assert row.reach in (None, "source", "target"), key
        assert row.reach is None or row.decision is Decision.DIAGNOSE, key


def test_an_unknown_code_is_not_retried() -> None:
    assert row_for("Brand.NewCode").decision is Decision.FAIL


TROUBLESHOOTING = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
DECISION_WORDS = {"retried": Decision.RETRY, "re-read": Decision.REREAD, "diagnosed": Decision.DIAGNOSE,
                "failed": Decision.FAIL}


def test_the_troubleshooting_table_states_each_codes_decision() -> None:
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (.+?) \| (retried|re-read|diagnosed|failed) \|", text, flags=re.MULTILINE)
    stated = {code: DECISION_WORDS[word] for first, word in rows for code in re.findall(r"`([A-Za-z.]+)`", first)
              if row_key(code) is not None}
    assert len(stated) >= 15, stated
    assert {code: row_for(code).decision for code in stated} == stated
    assert {"InternalError.NotEnoughMoneyError", "LimitExceeded.MaxUnusedJobs", "InternalError.DuplicateJob",
            "FailedOperation.UserNotAuthed", "InternalError.ParseBinlogError"} <= set(stated)
