"""DTS v20211206 on the wire: one method per action, params in (already schema-checked), dict out.

Jobs belong to the caller's root account (a sub-account buys in its owner's account). Semantics follow the
API reference: the purchase region is the request region, `Limit` is 1..100, a task is configured only
before it runs, verified before it starts, and a cross-account source is reached through a CAM role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.tencentcloud.dts import compare, throttle
from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts.access import (
    cross_account_owner,
    invalid,
    require_read_policies,
    require_role,
    role_session,
)
from sandbox.tencentcloud.dts.checks import CHECK_TASK_FAILS_MARKER, run_checks
from sandbox.tencentcloud.dts.models import DtsBackend, Endpoint, Job, JobConfig, JobQuery, dts_backend
from sandbox.tencentcloud.dts.topology import WRITE_MODES, documented_node_types, findings
from sandbox.tencentcloud.dts.views import BEIJING, check_job, detail, fmt, job_item, sanitize_info
from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.tencentcloud.responder import Responder
from sandbox.tencentcloud.world import Instance

DATABASE_TYPES = {"mysql", "mariadb", "percona", "postgresql", "mongodb", "sqlserver", "redis", "tendis",
                  "cynosdbmysql", "tdsqlmysql", "keewidb", "tdstore", "clickhouse"}
INSTANCE_CLASSES = {"small", "medium", "large", "xlarge", "2xlarge"}  # as documented; billing is not modelled
MIGRATE_TYPES = {"structure", "full", "fullAndIncrement"}
RUNNING_FAILS_MARKER = "running"  # an instance's fail_checks entry: a started migration fails while running
STALL_MARKER = "stall"  # world option (fail_checks entry): a started migration's full load stops moving
LAG_MARKER = "lag"  # world option (fail_checks entry): a started migration's lag rises by LAG_RATE s each second
LAG_RATE = 1.0


def _in_range(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise invalid(f"{name}={value} is out of range [{low}, {high}].")
    return value


def beijing_time(text: str) -> float:
    """Epoch seconds of a `yyyy-mm-dd hh:mm:ss` Beijing time (ExpectRunTime without DateTimeISOFormat)."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()
    except ValueError:
        raise invalid(f"ExpectRunTime={text} is not yyyy-mm-dd hh:mm:ss (Beijing time).") from None


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items or []:
        key = str(item.get("TagKey") or "")
        if not key:
            raise invalid("TagKey must not be empty.")
        tags[key] = str(item.get("TagValue") or "")
    return tags


class DtsResponse(Responder):
    """DTS actions over the world's `DtsBackend`."""

    @property
    def backend(self) -> DtsBackend:
        return dts_backend(self.world)

    @property
    def now(self) -> float:
        return self.world.clock.now()

    def _job(self, params: dict[str, Any]) -> Job:
        return self.backend.get(self.caller.owner_uin, str(params.get("JobId") or ""))

    # -- purchase and listing ------------------------------------------------------------------------
    def CreateMigrationService(self, params: dict[str, Any]) -> dict[str, Any]:
        for side in ("SrcDatabaseType", "DstDatabaseType"):
            if params[side] not in DATABASE_TYPES:
                raise invalid(f"{side}={params[side]} is not a supported database type.")
        if params["DstRegion"] != self.region:
            raise invalid(f"DstRegion={params['DstRegion']} must equal the request region {self.region}.")
        if params["InstanceClass"] not in INSTANCE_CLASSES:
            raise invalid(f"InstanceClass={params['InstanceClass']} is not one of {sorted(INSTANCE_CLASSES)}.")
        count = _in_range("Count", int(params.get("Count", 1)), 1, 15)
        name = str(params.get("JobName") or "")
        if len(name) > 128:
            raise invalid("JobName is longer than 128 characters.")
        if self.world.account(self.caller.owner_uin).balance <= 0:
            raise TencentCloudError("OperationDenied.NotEnoughMoneyError",
                                    "The account balance is insufficient; top up and buy again.")
        self.backend.check_unused(self.caller.owner_uin, count)
        jobs = self.backend.create_jobs(
            self.caller.owner_uin, src_database_type=params["SrcDatabaseType"],
            dst_database_type=params["DstDatabaseType"], src_region=params["SrcRegion"],
            dst_region=params["DstRegion"], instance_class=params["InstanceClass"], count=count, name=name,
            tags=_tags(params.get("Tags")),
        )
        return {"JobIds": [job.job_id for job in jobs]}

    def DescribeMigrationJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        order = params.get("OrderSeq") or "desc"
        if order not in ("asc", "desc"):
            raise invalid(f"OrderSeq={order} must be asc or desc.")
        query = JobQuery(
            job_id=params.get("JobId"), job_name=params.get("JobName"), statuses=params.get("Status") or [],
            src_instance_id=params.get("SrcInstanceId"), dst_instance_id=params.get("DstInstanceId"),
            src_region=params.get("SrcRegion"), dst_region=params.get("DstRegion"),
            src_database_types=params.get("SrcDatabaseType") or [],
            dst_database_types=params.get("DstDatabaseType") or [],
            src_access_types=params.get("SrcAccessType") or [], dst_access_types=params.get("DstAccessType") or [],
            run_mode=params.get("RunMode"),
            tag_filters=[(str(f["TagKey"]), list(f.get("TagValue") or [])) for f in params.get("TagFilters") or []],
            ascending=order == "asc", offset=_in_range("Offset", int(params.get("Offset", 0)), 0, 2**31),
            limit=_in_range("Limit", int(params.get("Limit", 20)), 1, 100),
        )
        page = self.backend.query(self.caller.owner_uin, query)
        now = self.now
        items = []
        for job in page.jobs:
            item = job_item(job, now)
            item["StepInfo"].update(self._lag(job, item["Status"]))  # the same figures as the detail's
            items.append(item)
        return {"TotalCount": page.total, "JobList": items}

    def DescribeMigrationDetail(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        answer = detail(job, self.now)
        answer["StepInfo"].update(self._lag(job, answer["Status"]))
        return answer

    def _lag(self, job: Job, status: str) -> dict[str, int]:
        """SecondsBehindMaster / MasterSlaveDistance: valid only while the task catches up on the binlog (its last
        step: readyComplete here), else -1 ("只在任务正常，迁移或者同步的最后一步...如果是非法值，返回-1")."""
        source = self._instance_of(job, job.config.src) if job.config and job.config.src.info else None
        rising = job.lag_since is not None  # the `lag` world option (backend.fall_behind)
        if status != lc.READY_COMPLETE or (not rising and (source is None or source.lag_unknown)):
            return {"SecondsBehindMaster": -1, "MasterSlaveDistance": -1}
        behind = source.write_load if source is not None else 0
        if job.lag_since is not None:
            behind += int((self.now - job.lag_since) * job.lag_rate)
        return {"SecondsBehindMaster": behind, "MasterSlaveDistance": behind // 2}

    # -- configuration -------------------------------------------------------------------------------
    def DescribeMigrateDBInstances(self, params: dict[str, Any]) -> dict[str, Any]:
        database_type = params["DatabaseType"]
        owner = self.caller.owner_uin
        if params.get("AccountMode") == "other":
            session = role_session(self.world, str(params.get("TmpSecretId") or ""),
                                   str(params.get("TmpSecretKey") or ""), str(params.get("TmpToken") or ""))
            require_role(self.world, session)
            require_read_policies(self.world, session, database_type)
            owner = session.role_owner_uin
        instances = [inst for inst in self.world.account(owner).instances
                     if inst.engine == database_type and inst.region == self.region
                     and params.get("InstanceId") in (None, "", inst.instance_id)
                     and params.get("InstanceName") in (None, "", inst.instance_id)]
        offset, limit = int(params.get("Offset", 0)), int(params.get("Limit", 20))
        return {"TotalCount": len(instances), "Instances": [
            {"InstanceId": inst.instance_id, "InstanceName": inst.instance_id, "Vip": inst.vip,
             "Vport": inst.port, "Usable": 1, "Hint": ""}
            for inst in instances[offset:offset + limit]]}

    def ModifyMigrationJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        status = job.status(self.now)
        if status not in lc.CONFIGURABLE:  # before validating: a running task reports the conflict, not params
            raise TencentCloudError("FailedOperation.StatusInConflict",
                                    f"job {job.job_id} is {status}: it can be configured only before it runs")
        run_mode = params["RunMode"]
        if run_mode not in ("immediate", "timed"):
            raise invalid(f"RunMode={run_mode} must be immediate or timed.")
        if run_mode == "timed" and not params.get("ExpectRunTime"):
            raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                    "ExpectRunTime is required when RunMode is timed.")
        if run_mode == "timed":
            beijing_time(str(params["ExpectRunTime"]))  # "按 yyyy-mm-dd hh:mm:ss（北京时间）传入"
        option = self._migrate_option(job, params["MigrateOption"])
        src = self._endpoint("SrcInfo", params["SrcInfo"], job.src_region, job.src_database_type)
        dst = self._endpoint("DstInfo", params["DstInfo"], job.dst_region, job.dst_database_type)
        same_account = src.info[0].get("AccountMode") != "other"
        if same_account and src.instance_id and src.instance_id == dst.instance_id:
            raise invalid(f"The source and the target are the same instance {src.instance_id}.")
        limits = throttle.configured(option.get("RateLimit"))
        self.backend.configure(job, JobConfig(
            run_mode=run_mode, migrate_option=option, src=src, dst=dst,
            expect_run_time=str(params.get("ExpectRunTime") or ""),
            auto_retry_minutes=self._auto_retry(params),
            wrong_logins=self._wrong_logins(job, params, src, dst),
        ))
        job.rate_limit = limits
        if params.get("JobName"):
            job.name = str(params["JobName"])
        if "Tags" in params:
            self.backend.set_tags(job, _tags(params["Tags"]))
        return {}

    @staticmethod
    def _auto_retry(params: dict[str, Any]) -> int:
        """AutoRetryTimeRangeMinutes: "可设置5至720分钟、0表示不重试" (0 when not sent)."""
        minutes = int(params.get("AutoRetryTimeRangeMinutes", 0))
        if minutes != 0 and not 5 <= minutes <= 720:
            raise invalid(f"AutoRetryTimeRangeMinutes={minutes} must be 0 or 5..720.")
        return minutes

    def _wrong_logins(self, job: Job, params: dict[str, Any], src: Endpoint, dst: Endpoint) -> list[str]:
        """The instances whose world `password` is not the one this configuration gives DTS."""
        return [inst.instance_id for ep, side in ((src, "SrcInfo"), (dst, "DstInfo"))
                if (inst := self._instance_of(job, ep)) is not None and inst.password is not None
                and params[side]["Info"][0].get("Password") != inst.password]

    def _migrate_option(self, job: Job, option: dict[str, Any]) -> dict[str, Any]:
        migrate_type = option.get("MigrateType") or "fullAndIncrement"
        if migrate_type not in MIGRATE_TYPES:
            raise invalid(f"MigrateOption.MigrateType={migrate_type} must be one of {sorted(MIGRATE_TYPES)}.")
        if job.src_database_type in ("redis", "tendis", "keewidb") and migrate_type != "fullAndIncrement":
            raise invalid(f"{job.src_database_type} supports only MigrateType fullAndIncrement.")
        for item in option.get("ExtraAttr") or []:
            if item.get("Key") == "DstWriteMode" and item.get("Value") not in WRITE_MODES:
                raise invalid(f"MigrateOption.ExtraAttr DstWriteMode={item.get('Value')} must be one of "
                              f"{', '.join(WRITE_MODES)}.")
        table = option["DatabaseTable"]
        mode = table.get("ObjectMode")
        if mode not in ("all", "partial"):
            raise invalid(f"MigrateOption.DatabaseTable.ObjectMode={mode} must be all or partial.")
        databases = table.get("Databases") or []
        if mode == "partial" and (not databases or not all(db.get("DbName") for db in databases)):
            raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                    "DatabaseTable.Databases with a DbName each is required when ObjectMode "
                                    "is partial.")
        return {**option, "MigrateType": migrate_type}

    def _endpoint(self, field: str, info: dict[str, Any], region: str, database_type: str) -> Endpoint:
        """Check one side against the purchase and the world; return it without secrets."""
        if info["Region"] != region or info["DatabaseType"] != database_type:
            raise invalid(f"{field} must be {database_type} in {region}, as purchased; "
                          f"got {info['DatabaseType']} in {info['Region']}.")
        if info["NodeType"] not in documented_node_types(database_type):
            raise invalid(f"{field}.NodeType={info['NodeType']} is not a node type of {database_type}: "
                          f"{', '.join(documented_node_types(database_type))}.")
        nodes = info["Info"]
        if not nodes:
            raise TencentCloudError("InvalidParameter.InvalidParameterError", f"{field}.Info must not be empty.")
        node = nodes[0]
        if info["AccessType"] == "cdb":
            self._check_instance(field, node, region, database_type)
        elif not node.get("Host") or not node.get("Port"):
            raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                    f"{field}.Info[0].Host and Port are required for AccessType "
                                    f"{info['AccessType']}.")
        needs_user = database_type not in ("redis", "tendis", "keewidb")
        if not node.get("Password") or (needs_user and not node.get("User")):
            raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                    f"{field}.Info[0].User and Password are required.")
        return Endpoint(region=region, access_type=info["AccessType"], database_type=database_type,
                        node_type=info["NodeType"], info=[sanitize_info(n) for n in nodes],
                        supplier=str(info.get("Supplier") or ""), extra_attr=list(info.get("ExtraAttr") or []))

    def _check_instance(self, field: str, node: dict[str, Any], region: str, database_type: str) -> None:
        mode = node.get("AccountMode") or "self"
        if mode not in ("self", "other"):
            raise invalid(f"{field}.Info[0].AccountMode={mode} must be self or other.")
        if mode == "other" and field == "DstInfo":
            raise invalid("DstInfo must be an instance of the account that owns the task (AccountMode self).")
        owner = (cross_account_owner(self.world, node, database_type) if mode == "other"
                 else self.caller.owner_uin)
        instance_id = str(node.get("InstanceId") or "")
        if not instance_id:
            raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                    f"{field}.Info[0].InstanceId is required for AccessType cdb.")
        instance = self.world.instance(owner, region, instance_id)
        if instance is None or instance.engine != database_type:
            raise TencentCloudError("InvalidParameter.InstanceNotFound",
                                    f"{database_type} instance {instance_id} not found in account {owner}, "
                                    f"region {region}.")

    # -- verification and run ------------------------------------------------------------------------
    def _endpoints(self, job: Job) -> list[tuple[str, Endpoint, Instance]]:
        """(side, endpoint, world instance) of a configured job's source and target (cdb access only)."""
        assert job.config is not None
        found = []
        for side, ep in (("source", job.config.src), ("target", job.config.dst)):
            instance = self._instance_of(job, ep)
            if instance is not None:
                found.append((side, ep, instance))
        return found

    def _instance_of(self, job: Job, ep: Endpoint) -> Instance | None:
        """The world instance behind one configured side of a job, if any."""
        node = ep.info[0]
        owner = str(node.get("Account") or job.owner_uin) if node.get("AccountMode") == "other" else job.owner_uin
        return self.world.instance(owner, ep.region, ep.instance_id) if ep.instance_id else None

    def _fails_while_running(self, job: Job) -> bool:
        """Whether an instance of the job is marked to make a started migration fail while running."""
        return job.config is not None and any(RUNNING_FAILS_MARKER in inst.fail_checks
                                              for inst in self._instances(job))

    def _instances(self, job: Job) -> list[Instance]:
        """The world instances behind a configured job's source and target (cdb access only)."""
        return [instance for _side, _ep, instance in self._endpoints(job)]

    def CreateMigrateCheckJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        markers = [m for inst in self._instances(job) for m in inst.fail_checks] if job.config else []
        found: dict[str, tuple[str, str]] = {}
        for side, ep, instance in self._endpoints(job) if job.config else []:
            assert job.config is not None
            found.update(findings(side, ep.node_type, ep.extra_attr, instance, job.config.migrate_option))
        if job.config is not None and job.config.wrong_logins:  # the password given is not the instance's
            markers.append("ConnectDBCheck")
        self.backend.start_check(job, run_checks(job.src_database_type, markers, found),
                                 task_failed=CHECK_TASK_FAILS_MARKER in markers)
        return {}

    def DescribeMigrationCheckJob(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_job(self._job(params), self.now)

    def StartMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        markers = {m for inst in self._instances(job) for m in inst.fail_checks} if job.config else set()
        job.stalled = STALL_MARKER in markers
        timed = job.config is not None and job.config.run_mode == "timed"
        wait = max(0.0, beijing_time(job.config.expect_run_time) - self.now) if timed and job.config else 0.0
        self.backend.start(job, fails=self._fails_while_running(job), wait=wait)
        if LAG_MARKER in markers:
            self.backend.fall_behind(job, LAG_RATE)
        return {}

    def CompleteMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.complete(self._job(params))
        return {}

    def ResumeMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        redis = job.src_database_type == "redis"
        option = str(params.get("ResumeOption") or ("overwrite" if redis else "normal"))
        allowed = ("clearData", "overwrite") if redis else ("normal",)  # "clearData、overwrite仅对redis生效，
        if option not in allowed:  # normal仅针对非redis链路生效"
            raise invalid(f"ResumeOption={option} is not allowed for a {job.src_database_type} task: "
                          f"use one of {', '.join(allowed)}.")
        self.backend.resume(job, option, fails=self._fails_while_running(job), redis=redis)
        return {}

    def StopMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.stop(self._job(params))
        return {}

    def PauseMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.pause(self._job(params))
        return {}

    def ContinueMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.continue_(self._job(params))
        return {}

    def ModifyMigrateRateLimit(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        self.backend.limit(job, throttle.modified(job.rate_limit, params))
        return {}

    def IsolateMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.isolate(self._job(params))
        return {}

    def RecoverMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.recover(self._job(params))
        return {}

    def DestroyMigrateJob(self, params: dict[str, Any]) -> dict[str, Any]:
        self.backend.destroy(self._job(params))
        return {}

    # -- the consistency check (compare tasks) -----------------------------------------------------------
    def _compare(self, params: dict[str, Any]) -> tuple[Job, compare.CompareTask]:
        job = self._job(params)
        return job, compare.compare_backend(self.world).get(job.job_id, str(params.get("CompareTaskId") or ""))

    def CreateCompareTask(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        status = job.status(self.now)
        source = self._instance_of(job, job.config.src) if job.config and job.config.src.info else None
        if source is not None and source.compare_unsupported:
            raise TencentCloudError("UnsupportedOperation", f"job {job.job_id}: this link does not support the "
                                    "data consistency check")
        if status not in compare.COMPARABLE_JOBS:
            raise TencentCloudError("FailedOperation.StatusInConflict",
                                    f"job {job.job_id} is {status}: CreateCompareTask is not allowed in this status")
        options = dict(params.get("Options") or {})
        if options.get("Method", "dataCheck") not in compare.METHODS:
            raise invalid(f"Options.Method={options.get('Method')} is not one of {', '.join(compare.METHODS)}.")
        _in_range("Options.SampleRate", int(options.get("SampleRate", 100)), 0, 100)
        _in_range("Options.ThreadCount", int(options.get("ThreadCount", 1)), 1, 8)
        task = compare.compare_backend(self.world).create(job.job_id, str(params.get("TaskName") or ""), options,
                                                          self.now, list(source.differing_tables if source else []),
                                                          list(source.skipped_tables if source else []))
        return {"CompareTaskId": task.task_id}

    def StartCompare(self, params: dict[str, Any]) -> dict[str, Any]:
        _job, task = self._compare(params)
        compare.compare_backend(self.world).start(task, self.now)
        return {}

    def DescribeCompareTasks(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        tasks = compare.compare_backend(self.world).of_job(job.job_id)
        wanted = params.get("CompareTaskId")
        statuses = params.get("Status") or []
        found = [t for t in tasks if wanted in (None, "", t.task_id) and (not statuses or t.status(self.now) in statuses)]
        offset, limit = int(params.get("Offset") or 0), _in_range("Limit", int(params.get("Limit") or 20), 1, 100)
        return {"TotalCount": len(found), "Items": [compare.item(t, self.now, fmt) for t in found[offset:offset + limit]]}

    def DescribeCompareReport(self, params: dict[str, Any]) -> dict[str, Any]:
        _job, task = self._compare(params)
        return compare.report(task, self.now, fmt, params)

    def DescribeCompareDiffItems(self, params: dict[str, Any]) -> dict[str, Any]:
        _job, task = self._compare(params)
        return compare.diff_items(task, self.now, fmt, params)

    def StopCompare(self, params: dict[str, Any]) -> dict[str, Any]:
        _job, task = self._compare(params)
        compare.compare_backend(self.world).stop(task, self.now)
        return {}

    def DeleteCompareTask(self, params: dict[str, Any]) -> dict[str, Any]:
        _job, task = self._compare(params)
        compare.compare_backend(self.world).delete(task, self.now)
        return {}
