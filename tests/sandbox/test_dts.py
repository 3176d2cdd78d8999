"""DTS in the Tencent Cloud sandbox, driven only through the real SDK's DtsClient (plus CAM/STS to set up roles).

The sandbox clock stands still unless a test moves it: `wait_status` and `wait_check` advance it a second per look,
so a whole migration (check 5 s, readyRun 2 s, running 20 s, completing 3 s of sandbox time) passes in a few dozen
calls, and a state the test checks (running, stopping) lasts until the test moves on, however loaded the machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.dts.v20211206 import dts_client
from tencentcloud.dts.v20211206 import models as dts_models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from sandbox.tencentcloud.clock import Clock
from sandbox.tencentcloud.dts.checks import run_checks
from sandbox.tencentcloud.dts.models import (
    ISOLATING_SECONDS,
    DtsBackend,
    Endpoint,
    JobConfig,
    JobQuery,
    dts_backend,
)
from sandbox.tencentcloud.world import Instance, World, default_world

STILL = 1e-3  # the clock's speed: a thousandth of real time, so sandbox time passes when a test advances it
STEP = 1.0  # sandbox seconds that pass between two looks at a job
REGION = "ap-guangzhou"
SOURCE_UIN, TARGET_UIN = "100000000001", "100000000002"
DB_PASSWORD = "s3cret-db-password"
ROLE = "DTS-role"


@pytest.fixture
def world() -> World:
    """The default world on a still clock, plus a second MySQL instance so a job can stay in one account."""
    world = default_world(speed=STILL)
    world.account(TARGET_UIN).instances.append(Instance("cdb-dst00003", "mysql", REGION, "10.0.2.30", 3306))
    return world


def call(client: Any, action: str, request_class: type, params: dict[str, Any]) -> Any:
    request = request_class()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def dts_call(client: dts_client.DtsClient, action: str, **params: Any) -> Any:
    return call(client, action, getattr(dts_models, action + "Request"), params)


def error_of(fn: Callable[[], Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        fn()
    return info.value


def buy(client: dts_client.DtsClient, src_type: str = "mysql", count: int = 1, **extra: Any) -> list[str]:
    return dts_call(client, "CreateMigrationService", SrcDatabaseType=src_type, DstDatabaseType=src_type,
                    SrcRegion=REGION, DstRegion=REGION, InstanceClass="small", Count=count, **extra).JobIds


def source_node(instance_id: str, **cross: Any) -> dict[str, Any]:
    return {"InstanceId": instance_id, "User": "dts", "Password": DB_PASSWORD, **cross}


def configure(client: dts_client.DtsClient, job_id: str, src: dict[str, Any], dst_id: str = "cdb-dst00001",
              engine: str = "mysql", migrate_type: str = "fullAndIncrement", **extra: Any) -> None:
    dts_call(client, "ModifyMigrationJob", JobId=job_id, RunMode="immediate", **extra,
             MigrateOption={"MigrateType": migrate_type, "DatabaseTable": {"ObjectMode": "all"}},
             SrcInfo={"Region": REGION, "AccessType": "cdb", "DatabaseType": engine, "NodeType": "simple",
                      "Info": [src]},
             DstInfo={"Region": REGION, "AccessType": "cdb", "DatabaseType": engine, "NodeType": "simple",
                      "Info": [source_node(dst_id)]})


def wait_status(client: dts_client.DtsClient, job_id: str, wanted: set[str], clock: Clock) -> Any:
    """Look at the job, letting STEP sandbox seconds pass between looks, until its status is one of `wanted`."""
    for _ in range(1000):
        job = dts_call(client, "DescribeMigrationDetail", JobId=job_id)
        if job.Status in wanted:
            return job
        clock.advance(STEP)
    return job


def wait_check(client: dts_client.DtsClient, job_id: str, clock: Clock) -> Any:
    """Look at the check job, letting STEP sandbox seconds pass between looks, until it is no longer running."""
    for _ in range(1000):
        check = dts_call(client, "DescribeMigrationCheckJob", JobId=job_id)
        if check.Status != "running":
            return check
        clock.advance(STEP)
    return check


def authorize_source(tc_client: Callable[..., Any], policies: list[str]) -> None:
    """The guide's steps 1-6 in the source account: role trusting the target root, read-only policies."""
    cam = tc_client(cam_client.CamClient, "source")
    trust = {"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                              "principal": {"qcs": [f"qcs::cam::uin/{TARGET_UIN}:root"]}}]}
    call(cam, "CreateRole", cam_models.CreateRoleRequest, {"RoleName": ROLE, "PolicyDocument": json.dumps(trust)})
    for name in policies:
        call(cam, "AttachRolePolicy", cam_models.AttachRolePolicyRequest,
             {"PolicyName": name, "AttachRoleName": ROLE})


def assume_role(tc_client: Callable[..., Any]) -> Any:
    sts = tc_client(sts_client.StsClient, "target")
    return call(sts, "AssumeRole", sts_models.AssumeRoleRequest,
                {"RoleArn": f"qcs::cam::uin/{SOURCE_UIN}:roleName/{ROLE}", "RoleSessionName": "dtsbot"}).Credentials


def cross_account(creds: Any, instance_id: str = "cdb-src00001", account: str = SOURCE_UIN,
                  role: str = ROLE) -> dict[str, Any]:
    return source_node(instance_id, AccountMode="other", Account=account, AccountRole=role,
                       TmpSecretId=creds.TmpSecretId, TmpSecretKey=creds.TmpSecretKey, TmpToken=creds.Token)


# -- the guide, end to end ------------------------------------------------------------------------------
def test_cross_account_lifecycle(world: World, tc_client: Callable[..., Any],
                                 dts: Callable[..., dts_client.DtsClient]) -> None:
    authorize_source(tc_client, ["QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"])
    creds = assume_role(tc_client)
    client = dts()

    listed = dts_call(client, "DescribeMigrateDBInstances", DatabaseType="mysql", MigrateRole="src",
                      AccountMode="other", TmpSecretId=creds.TmpSecretId, TmpSecretKey=creds.TmpSecretKey,
                      TmpToken=creds.Token)
    assert [i.InstanceId for i in listed.Instances] == ["cdb-src00001"]  # the source account's, not ours
    assert listed.Instances[0].Usable == 1

    (job_id,) = buy(client, JobName="orders", Tags=[{"TagKey": "dtsbot-request", "TagValue": "req-1"}])
    assert job_id.startswith("dts-") and len(job_id) == 12
    configure(client, job_id, cross_account(creds))

    job = dts_call(client, "DescribeMigrationDetail", JobId=job_id)
    assert job.Status == "created" and job.JobName == "orders"
    info = job.SrcInfo.Info[0]
    assert (info.AccountMode, info.Account, info.AccountRole, info.InstanceId) == (
        "other", SOURCE_UIN, ROLE, "cdb-src00001")
    assert not info.TmpSecretId and not info.TmpSecretKey and not info.TmpToken
    raw = job.to_json_string()
    assert creds.TmpSecretKey not in raw and creds.Token not in raw and DB_PASSWORD not in raw
    assert [(t.TagKey, t.TagValue) for t in job.Tags] == [("dtsbot-request", "req-1")]
    assert job.MigrateOption.MigrateType == "fullAndIncrement"

    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).Status == "checking"
    check = wait_check(client, job_id, world.clock)
    assert (check.Status, check.CheckFlag) == ("success", "checkPass")
    assert {s.StepId for s in check.StepInfo} >= {"ConnectDBCheck", "SrcPrivilegeCheck", "BinlogParamCheck"}
    assert all(s.StepStatus == "pass" for s in check.StepInfo)

    dts_call(client, "StartMigrateJob", JobId=job_id)
    running = wait_status(client, job_id, {"running"}, world.clock)
    assert running.Status == "running" and running.StartTime != "0000-00-00 00:00:00"
    ready = wait_status(client, job_id, {"readyComplete"}, world.clock)
    assert ready.Status == "readyComplete"
    assert [(s.StepId, s.Percent) for s in ready.StepInfo.StepInfo][:2] == [("dumper", 100), ("loader", 100)]
    assert "complete" in ready.Action.AllowedAction

    dts_call(client, "CompleteMigrateJob", JobId=job_id)
    done = wait_status(client, job_id, {"success"}, world.clock)
    assert done.Status == "success" and done.EndTime != "0000-00-00 00:00:00"
    assert all(s.Status == "success" for s in done.StepInfo.StepInfo)


def test_progress_advances_with_the_clock(world: World, dts: Callable[..., dts_client.DtsClient]) -> None:
    client = dts()
    (job_id,) = buy(client)
    configure(client, job_id, source_node("cdb-dst00003", AccountMode="self"),
              migrate_type="full")
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    dts_call(client, "StartMigrateJob", JobId=job_id)
    world.clock.advance(2.0 + 5.0)  # readyRun, then a quarter of the 20 s running phase
    job = dts_call(client, "DescribeMigrationDetail", JobId=job_id)
    assert job.Status == "running"
    dumper, loader = job.StepInfo.StepInfo
    assert 40 <= dumper.Percent < 100 and loader.Percent == 0 and loader.Status == "notStarted"
    assert wait_status(client, job_id, {"success"}, world.clock).Status == "success"  # full: no readyComplete


# -- the guide's FAQ ------------------------------------------------------------------------------------
def test_role_without_engine_policy_cannot_list_instances(tc_client: Callable[..., Any], dts: Callable[..., Any]) -> None:
    authorize_source(tc_client, ["QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"])
    creds = assume_role(tc_client)
    params = {"DatabaseType": "sqlserver", "AccountMode": "other", "TmpSecretId": creds.TmpSecretId,
              "TmpSecretKey": creds.TmpSecretKey, "TmpToken": creds.Token}
    err = error_of(lambda: dts_call(dts(), "DescribeMigrateDBInstances", **params))
    assert err.code == "InternalError.InternalInnerCommonError"
    assert "QcloudSQLServerReadOnlyAccess" in err.message

    cam = tc_client(cam_client.CamClient, "source")
    call(cam, "AttachRolePolicy", cam_models.AttachRolePolicyRequest,
         {"PolicyName": "QcloudSQLServerReadOnlyAccess", "AttachRoleName": ROLE})
    listed = dts_call(dts(), "DescribeMigrateDBInstances", **params)
    assert [i.InstanceId for i in listed.Instances] == ["mssql-src00001"]


def test_cross_account_source_is_validated(world: World, tc_client: Callable[..., Any],
                                          dts: Callable[..., Any]) -> None:
    authorize_source(tc_client, ["QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"])
    creds = assume_role(tc_client)
    client = dts()
    (job_id,) = buy(client)

    wrong_role = error_of(lambda: configure(client, job_id, cross_account(creds, role="DTS-rol")))
    assert (wrong_role.code, wrong_role.message.startswith("role not exist")) == ("InternalError.GetRoleError", True)
    wrong_account = error_of(lambda: configure(client, job_id, cross_account(creds, account="100000000003")))
    assert wrong_account.code == "InternalError.GetRoleError"
    bad_name = error_of(lambda: configure(client, job_id, cross_account(creds, role="DTS role")))
    assert bad_name.code == "InvalidParameterValue.InvalidParameterValue"
    forged = cross_account(creds) | {"TmpSecretKey": "not-the-key"}
    assert error_of(lambda: configure(client, job_id, forged)).code == "InvalidParameterValue.InvalidParameterValue"
    missing = error_of(lambda: configure(client, job_id, cross_account(creds, instance_id="cdb-src09999")))
    assert missing.code == "InvalidParameter.InstanceNotFound"
    # the target account's own instance is not the source account's
    own = error_of(lambda: configure(client, job_id, cross_account(creds, instance_id="cdb-dst00001")))
    assert own.code == "InvalidParameter.InstanceNotFound"
    no_password = source_node("cdb-dst00003") | {"Password": ""}
    assert error_of(lambda: configure(client, job_id, no_password)).code == "InvalidParameter.InvalidParameterError"
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).SrcInfo.Info == []  # nothing stored
    world.clock.advance(24 * 3600)  # the temporary credentials expire
    expired = error_of(lambda: configure(client, job_id, cross_account(creds)))
    assert (expired.code, "expired" in expired.message) == ("InvalidParameterValue.InvalidParameterValue", True)


# -- verification ---------------------------------------------------------------------------------------
def test_failed_check_then_fixed_check_passes(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    (job_id,) = buy(client)
    configure(client, job_id, source_node("cdb-dst00003"))
    source = world.instance(TARGET_UIN, REGION, "cdb-dst00003")
    assert source is not None
    source.fail_checks = ["BinlogParamCheck", "SrcPrivilegeCheck:warning"]

    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    check = wait_check(client, job_id, world.clock)
    # documented: Status is the check task's state (it finished), CheckFlag the verdict
    assert (check.Status, check.CheckFlag) == ("success", "checkNotPass")
    steps = {s.StepId: s for s in check.StepInfo}
    assert steps["BinlogParamCheck"].StepStatus == "failed"
    item = steps["BinlogParamCheck"].DetailCheckItems[0]
    assert item.CheckResult == "failed" and item.FailureReason and item.ErrorLog and item.HelpDoc
    assert "binlog" in item.Solution.lower()
    assert steps["SrcPrivilegeCheck"].StepStatus == "warning"
    job = dts_call(client, "DescribeMigrationDetail", JobId=job_id)
    assert job.Status == "checkNotPass" and job.CheckStepInfo.Progress.Status == "failed"
    binlog = next(s for s in job.CheckStepInfo.Progress.Steps if s.StepId == "BinlogParamCheck")
    assert binlog.Status == "failed" and binlog.Errors[0].Solution
    assert error_of(lambda: dts_call(client, "StartMigrateJob", JobId=job_id)).code == \
        "FailedOperation.StatusInConflict"

    source.fail_checks = []
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).Status == "checkPass"


def test_modifying_a_checked_job_requires_a_new_check(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    (job_id,) = buy(client)
    assert error_of(lambda: dts_call(client, "CreateMigrateCheckJob", JobId=job_id)).code == \
        "OperationDenied.JobOperationDeniedError"  # not configured yet
    configure(client, job_id, source_node("cdb-dst00003"))
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    configure(client, job_id, source_node("cdb-dst00003"), migrate_type="full")
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).Status == "created"
    assert dts_call(client, "DescribeMigrationCheckJob", JobId=job_id).Status == "notStarted"


# -- status machine -------------------------------------------------------------------------------------
def test_status_conflicts_and_stop(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    (job_id,) = buy(client)
    for action in ("StartMigrateJob", "CompleteMigrateJob", "StopMigrateJob"):
        assert error_of(lambda a=action: dts_call(client, a, JobId=job_id)).code == \
            "FailedOperation.StatusInConflict"
    configure(client, job_id, source_node("cdb-dst00003"))
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    wait_check(client, job_id, world.clock)
    dts_call(client, "StartMigrateJob", JobId=job_id)
    assert wait_status(client, job_id, {"running"}, world.clock).Status == "running"
    for action in ("CompleteMigrateJob", "CreateMigrateCheckJob", "StartMigrateJob", "IsolateMigrateJob"):
        assert error_of(lambda a=action: dts_call(client, a, JobId=job_id)).code == \
            "FailedOperation.StatusInConflict"
    modify = error_of(lambda: configure(client, job_id, source_node("cdb-dst00003")))
    assert modify.code == "FailedOperation.StatusInConflict"

    dts_call(client, "StopMigrateJob", JobId=job_id)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).Status == "stopping"  # the clock stands still
    assert wait_status(client, job_id, {"canceled"}, world.clock).Status == "canceled"

    dts_call(client, "IsolateMigrateJob", JobId=job_id)
    isolating = dts_call(client, "DescribeMigrationJobs", JobId=job_id).JobList[0]
    assert (isolating.TradeInfo.TradeStatus, isolating.TradeInfo.BillingType) == ("isolating", "billing")
    assert error_of(lambda: dts_call(client, "DestroyMigrateJob", JobId=job_id)).code == \
        "FailedOperation.StatusInConflict"  # only once isolated
    world.clock.advance(ISOLATING_SECONDS)
    isolated = dts_call(client, "DescribeMigrationJobs", JobId=job_id).JobList[0]
    assert isolated.TradeInfo.TradeStatus == "isolated"
    dts_call(client, "RecoverMigrateJob", JobId=job_id)  # undone: billed again, then isolated once more
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).TradeInfo.TradeStatus == "normal"
    assert error_of(lambda: dts_call(client, "RecoverMigrateJob", JobId=job_id)).code == \
        "FailedOperation.StatusInConflict"
    dts_call(client, "IsolateMigrateJob", JobId=job_id)
    world.clock.advance(ISOLATING_SECONDS)
    dts_call(client, "DestroyMigrateJob", JobId=job_id)
    assert error_of(lambda: dts_call(client, "DescribeMigrationDetail", JobId=job_id)).code == \
        "ResourceNotFound.JobNotExist"


def test_a_task_that_is_not_billed_is_destroyed_by_its_isolation(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    (job_id,) = buy(client)
    dts_backend(world).jobs[job_id].billing_type = "notBilling"
    assert dts_call(client, "DescribeMigrationDetail", JobId=job_id).TradeInfo.BillingType == "notBilling"
    dts_call(client, "IsolateMigrateJob", JobId=job_id)
    assert error_of(lambda: dts_call(client, "DescribeMigrationDetail", JobId=job_id)).code == \
        "ResourceNotFound.JobNotExist"


def test_too_many_idle_tasks_refuse_a_purchase(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    dts_backend(world).max_unused_jobs = 3
    (first, *_rest) = buy(client, count=3)
    assert error_of(lambda: buy(client)).code == "LimitExceeded.MaxUnusedJobs"
    dts_call(client, "IsolateMigrateJob", JobId=first)  # an isolated task is no longer idle
    assert len(buy(client)) == 1


def test_instance_marked_to_fail_while_running(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    (job_id,) = buy(client)
    configure(client, job_id, source_node("cdb-dst00003"))
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    world.instance(TARGET_UIN, REGION, "cdb-dst00003").fail_checks = ["running"]
    dts_call(client, "StartMigrateJob", JobId=job_id)
    failed = wait_status(client, job_id, {"failed"}, world.clock)
    assert failed.Status == "failed" and failed.BriefMsg and failed.ErrorInfo
    assert any(step.Status == "failed" for step in failed.StepInfo.StepInfo)


# -- purchase, ownership, listing -----------------------------------------------------------------------
def test_purchase_rules(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    other_region = error_of(lambda: dts_call(
        client, "CreateMigrationService", SrcDatabaseType="mysql", DstDatabaseType="mysql", SrcRegion=REGION,
        DstRegion="ap-shanghai", InstanceClass="small"))
    assert other_region.code == "InvalidParameterValue.InvalidParameterValue"
    assert error_of(lambda: buy(client, count=16)).code == "InvalidParameterValue.InvalidParameterValue"
    assert len(buy(client, count=3)) == 3
    world.account(TARGET_UIN).balance = 0
    assert error_of(lambda: buy(client)).code == "OperationDenied.NotEnoughMoneyError"


def test_jobs_belong_to_the_root_account(dts: Callable[..., Any]) -> None:
    (job_id,) = buy(dts("target-sub"))  # the executing sub-account buys in its owner's account
    assert dts_call(dts("target"), "DescribeMigrationDetail", JobId=job_id).JobId == job_id
    finance = dts("finance")
    assert error_of(lambda: dts_call(finance, "DescribeMigrationDetail", JobId=job_id)).code == \
        "ResourceNotFound.JobNotExist"
    assert dts_call(finance, "DescribeMigrationJobs").TotalCount == 0


def test_tag_filters_and_paging(dts: Callable[..., Any]) -> None:
    client = dts()
    tag = [{"TagKey": "dtsbot-request", "TagValue": "req-big"}]
    tagged = [j for _ in range(8) for j in buy(client, count=15, Tags=tag)]  # 120 tagged jobs
    for _ in range(8):
        buy(client, count=15, Tags=[{"TagKey": "dtsbot-request", "TagValue": "req-other"}])
    buy(client, count=10)
    assert dts_call(client, "DescribeMigrationJobs", Limit=1).TotalCount == 250

    seen: list[str] = []
    for offset in (0, 100, 200):
        page = dts_call(client, "DescribeMigrationJobs", Offset=offset, Limit=100,
                        TagFilters=[{"TagKey": "dtsbot-request", "TagValue": ["req-big"]}])
        assert page.TotalCount == 120
        seen += [job.JobId for job in page.JobList]
    assert sorted(seen) == sorted(tagged) and len(set(seen)) == 120
    assert seen[0] == tagged[-1]  # newest first by default

    by_key = dts_call(client, "DescribeMigrationJobs", TagFilters=[{"TagKey": "dtsbot-request"}], Limit=1)
    assert by_key.TotalCount == 240
    created = dts_call(client, "DescribeMigrationJobs", Status=["created"], SrcDatabaseType=["mysql"], Limit=1)
    assert created.TotalCount == 250
    assert dts_call(client, "DescribeMigrationJobs", Status=["running"]).TotalCount == 0
    too_many = error_of(lambda: dts_call(client, "DescribeMigrationJobs", Limit=101))
    assert too_many.code == "InvalidParameterValue.InvalidParameterValue"


# -- scale: the state, without HTTP ---------------------------------------------------------------------
def test_tag_lookup_among_5000_jobs_touches_only_the_tagged_ones() -> None:
    backend = DtsBackend(Clock(speed=STILL), seed=7)
    for n in range(5000):
        backend.create_jobs(TARGET_UIN, src_database_type="mysql", dst_database_type="mysql",
                            src_region=REGION, dst_region=REGION, instance_class="small",
                            tags={"dtsbot-request": f"req-{n}", "team": "data"})
    assert len(backend.jobs) == 5000

    page = backend.query(TARGET_UIN, JobQuery(tag_filters=[("dtsbot-request", ["req-4321"])]))
    assert (page.total, page.examined) == (1, 1)
    assert page.jobs[0].tags["dtsbot-request"] == "req-4321"
    both = backend.query(TARGET_UIN, JobQuery(tag_filters=[("team", ["data"]), ("dtsbot-request", ["req-7"])]))
    assert (both.total, both.examined) == (1, 1)  # the smaller index drives the intersection
    by_id = backend.query(TARGET_UIN, JobQuery(job_id=page.jobs[0].job_id))
    assert (by_id.total, by_id.examined) == (1, 1)
    assert backend.query(TARGET_UIN, JobQuery(limit=100)).examined == 5000  # a plain listing reads them all

    job = page.jobs[0]
    ep = Endpoint(REGION, "cdb", "mysql", "simple", [{"InstanceId": "cdb-dst00003"}])
    backend.configure(job, JobConfig("immediate", {"MigrateType": "full"}, ep, ep))
    backend.start_check(job, run_checks("mysql", []))
    backend.set_tags(job, {"dtsbot-request": "req-renamed"})
    assert backend.query(TARGET_UIN, JobQuery(tag_filters=[("dtsbot-request", ["req-4321"])])).total == 0
    renamed = backend.query(TARGET_UIN, JobQuery(tag_filters=[("dtsbot-request", ["req-renamed"])]))
    assert [j.job_id for j in renamed.jobs] == [job.job_id]
