"""The sandbox's shared protocol, driven through the real SDK: signature, schema, faults, call log."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from sandbox.tencentcloud.calllog import REDACTED
from sandbox.tencentcloud.schema import SCHEMA_PATH

REPO = Path(__file__).resolve().parents[2]
TRUST = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                                       "principal": {"qcs": ["qcs::cam::uin/100000000002:root"]}}]})


def _identity(client) -> str:
    return client.GetCallerIdentity(sts_models.GetCallerIdentityRequest()).Arn


def _code(excinfo: pytest.ExceptionInfo[TencentCloudSDKException]) -> str:
    return excinfo.value.get_code()


def _common(tc_sandbox, service: str, version: str, who=("AKIDSANDBOXTARGET0000000000000002",
                                                          "sandbox-target-secret-key-0002")) -> CommonClient:
    http = HttpProfile(endpoint=tc_sandbox.endpoint, protocol="http")
    return CommonClient(service, version, Credential(*who), "ap-guangzhou", ClientProfile(httpProfile=http))


def _raw_signed(endpoint: str, secret_id: str, secret_key: str, timestamp: int, action: str = "GetCallerIdentity",
                service: str = "sts", version: str = "2018-08-13") -> dict:
    """One request signed by this test's own TC3 signer (so the timestamp can be chosen)."""
    body = b"{}"
    ctype = "application/json"
    canonical = f"POST\n/\n\ncontent-type:{ctype}\nhost:{endpoint}\n\ncontent-type;host\n" \
                f"{hashlib.sha256(body).hexdigest()}"
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n" \
              f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://{endpoint}/", data=body, method="POST", headers={
        "Content-Type": ctype, "Host": endpoint, "X-TC-Action": action, "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp), "X-TC-Region": "ap-guangzhou",
        "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
                         f"SignedHeaders=content-type;host, Signature={signature}",
    })
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def test_signed_request_reaches_the_service(tc_client):
    assert _identity(tc_client(sts_client.StsClient, "target")) == "qcs::cam::uin/100000000002:root"


def test_wrong_secret_key_is_signature_failure(tc_client):
    with pytest.raises(TencentCloudSDKException) as err:
        _identity(tc_client(sts_client.StsClient, ("AKIDSANDBOXTARGET0000000000000002", "wrong-key")))
    assert _code(err) == "AuthFailure.SignatureFailure"


def test_unknown_secret_id(tc_client):
    with pytest.raises(TencentCloudSDKException) as err:
        _identity(tc_client(sts_client.StsClient, ("AKIDNOBODY", "whatever")))
    assert _code(err) == "AuthFailure.SecretIdNotFound"


def test_own_signer_accepted_when_fresh_and_rejected_when_stale(tc_sandbox):
    sid, key = "AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001"
    fresh = _raw_signed(tc_sandbox.endpoint, sid, key, int(time.time()))
    assert fresh["Response"]["AccountId"] == "100000000001"
    stale = _raw_signed(tc_sandbox.endpoint, sid, key, int(time.time()) - 600)
    assert stale["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"
    assert stale["Response"]["RequestId"]


def test_unknown_parameter(tc_sandbox):
    with pytest.raises(TencentCloudSDKException) as err:
        _common(tc_sandbox, "cam", "2019-01-16").call_json("GetRole", {"RoleName": "x", "Colour": "blue"})
    assert _code(err) == "UnknownParameter"
    assert "`Colour`" in err.value.get_message()


def test_missing_parameter(tc_sandbox):
    with pytest.raises(TencentCloudSDKException) as err:
        _common(tc_sandbox, "cam", "2019-01-16").call_json("CreateRole", {"RoleName": "r"})
    assert _code(err) == "MissingParameter"
    assert "`PolicyDocument`" in err.value.get_message()


def test_wrong_type_is_invalid_parameter(tc_sandbox):
    with pytest.raises(TencentCloudSDKException) as err:
        _common(tc_sandbox, "cam", "2019-01-16").call_json("DescribeRoleList", {"Page": "one", "Rp": 10})
    assert _code(err) == "InvalidParameter"
    assert "`Page`" in err.value.get_message()


def test_nested_unknown_parameter_is_named_with_its_path(tc_sandbox):
    params = {"RoleName": "r", "PolicyDocument": TRUST, "Tags": [{"Key": "k", "Value": "v", "Extra": 1}]}
    with pytest.raises(TencentCloudSDKException) as err:
        _common(tc_sandbox, "cam", "2019-01-16").call_json("CreateRole", params)
    assert _code(err) == "UnknownParameter"
    assert "`Tags.0.Extra`" in err.value.get_message()


def test_unknown_action(tc_sandbox):
    with pytest.raises(TencentCloudSDKException) as err:
        _common(tc_sandbox, "cam", "2019-01-16").call_json("DescribeEverything", {})
    assert _code(err) == "InvalidAction"


def test_request_limit_exceeded_fires_count_times(tc_sandbox, tc_client):
    sts = tc_client(sts_client.StsClient)
    tc_sandbox.faults.add("GetCallerIdentity", "RequestLimitExceeded", count=2)
    for _ in range(2):
        with pytest.raises(TencentCloudSDKException) as err:
            _identity(sts)
        assert _code(err) == "RequestLimitExceeded"
    assert _identity(sts).endswith(":root")
    assert [r.error_code for r in tc_sandbox.calls.of("GetCallerIdentity")] == \
        ["RequestLimitExceeded", "RequestLimitExceeded", ""]


def test_dropped_connection_does_not_apply_the_action(tc_sandbox, tc_client):
    cam = tc_client(cam_client.CamClient, "source")
    tc_sandbox.faults.add("CreateRole", "drop", count=1)
    req = cam_models.CreateRoleRequest()
    req.RoleName, req.PolicyDocument = "DTS-role", TRUST
    with pytest.raises(TencentCloudSDKException):
        cam.CreateRole(req)
    assert tc_sandbox.world.cam("100000000001").find_role("DTS-role") is None
    assert cam.CreateRole(req).RoleId


def test_commit_then_drop_applies_the_action_without_answering(tc_sandbox, tc_client):
    cam = tc_client(cam_client.CamClient, "source")
    tc_sandbox.faults.add("CreateRole", "commit_then_drop", count=1)
    req = cam_models.CreateRoleRequest()
    req.RoleName, req.PolicyDocument = "DTS-role", TRUST
    with pytest.raises(TencentCloudSDKException):
        cam.CreateRole(req)
    assert tc_sandbox.world.cam("100000000001").find_role("DTS-role") is not None
    with pytest.raises(TencentCloudSDKException) as err:  # a blind retry meets the committed role
        cam.CreateRole(req)
    assert _code(err) == "InvalidParameter.RoleNameInUse"
    assert [r.outcome for r in tc_sandbox.calls.of("CreateRole")] == ["committed-dropped", "error"]


def test_slow_answer_and_internal_error_over_admin_endpoint(tc_sandbox, tc_client):
    sts = tc_client(sts_client.StsClient)

    def admin(method: str, path: str, data: dict | None = None) -> dict:
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(f"http://{tc_sandbox.endpoint}{path}", data=body, method=method)
        with urllib.request.urlopen(req, timeout=5) as answer:
            return json.loads(answer.read())

    admin("POST", "/_sandbox/faults", {"action": "GetCallerIdentity", "kind": "slow", "delay": 0.3, "count": 1})
    started = time.monotonic()
    _identity(sts)
    assert time.monotonic() - started >= 0.3
    admin("POST", "/_sandbox/faults", {"action": "*", "kind": "InternalError", "probability": 1.0,
                                       "service": "sts"})
    assert len(admin("GET", "/_sandbox/faults")["faults"]) == 1
    with pytest.raises(TencentCloudSDKException) as err:
        _identity(sts)
    assert _code(err) == "InternalError"
    admin("DELETE", "/_sandbox/faults")
    assert _identity(sts).endswith(":root")
    calls = admin("GET", "/_sandbox/calls")["calls"]
    assert [c["outcome"] for c in calls] == ["ok", "error", "ok"]
    admin("POST", "/_sandbox/reset")
    assert admin("GET", "/_sandbox/calls")["calls"] == []


def test_call_log_records_caller_and_redacts_secrets(tc_sandbox):
    params = {"SrcInfo": {"Info": [{"TmpSecretId": "AKIDxyz", "TmpSecretKey": "k", "TmpToken": "t",
                                    "Password": "pw", "Account": "100000000001"}]}}
    client = _common(tc_sandbox, "dts", "2021-12-06")
    with pytest.raises(TencentCloudSDKException):
        client.call_json("ModifyMigrationJob", {"JobId": "dts-none", "RunMode": "immediate",
                                                "MigrateOption": {}, **params})
    record = tc_sandbox.calls.of("ModifyMigrationJob")[-1]
    assert record.caller_uin == "100000000002" and record.service == "dts" and record.request_id
    info = record.params["SrcInfo"]["Info"][0]
    assert info == {"TmpSecretId": REDACTED, "TmpSecretKey": REDACTED, "TmpToken": REDACTED,
                    "Password": REDACTED, "Account": "100000000001"}
    assert "pw" not in json.dumps([r.to_dict() for r in tc_sandbox.calls.records])


def _tccli_python() -> str | None:
    if find_spec("tccli") is not None:
        return sys.executable
    return os.environ.get("DTSBOT_TCCLI_PYTHON")


@pytest.mark.skipif(_tccli_python() is None,
                    reason="drift check needs tccli: install it or set DTSBOT_TCCLI_PYTHON to a Python that has it")
def test_committed_schema_matches_tccli_api_json():
    generated = subprocess.run([_tccli_python(), str(REPO / "scripts" / "gen_tc_schema.py"), "--stdout"],
                               check=True, capture_output=True, text=True).stdout
    assert json.loads(generated) == json.loads(SCHEMA_PATH.read_text())


def test_world_from_yaml_file_serves_its_accounts(tmp_path):
    from sandbox.tencentcloud.server import TencentCloudSandbox
    from sandbox.tencentcloud.world import load_world

    path = tmp_path / "world.yaml"
    path.write_text("speed: 30\naccounts:\n  - {uin: '200000000001', name: solo, secret_id: AKIDSOLO, "
                    "secret_key: solo-key, instances: [{instance_id: cdb-solo0001, engine: mysql, "
                    "vip: 10.9.0.1, port: 3306, fail_checks: [BinlogParamCheck]}]}\n")
    world = load_world(path)
    assert world.clock.speed == 30
    assert world.instance("200000000001", "ap-guangzhou", "cdb-solo0001").fail_checks == ["BinlogParamCheck"]
    with TencentCloudSandbox(world) as sandbox:
        http = HttpProfile(endpoint=sandbox.endpoint, protocol="http")
        sts = sts_client.StsClient(Credential("AKIDSOLO", "solo-key"), "ap-guangzhou", ClientProfile(httpProfile=http))
        assert _identity(sts) == "qcs::cam::uin/200000000001:root"
