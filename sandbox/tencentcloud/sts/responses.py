"""STS (v20180813) actions on the wire: AssumeRole and GetCallerIdentity."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sandbox.tencentcloud.responder import Responder
from sandbox.tencentcloud.sts.models import assume_role


class StsResponse(Responder):
    """One method per STS action."""

    def AssumeRole(self, params: dict[str, Any]) -> dict[str, Any]:
        session = assume_role(self.world, self.caller, params["RoleArn"], params["RoleSessionName"],
                              params.get("DurationSeconds"), params.get("ExternalId"))
        # ExpiredTime is real epoch time, so a client comparing it with its own clock refreshes in time
        # even when the sandbox clock runs faster.
        expires = int(time.time() + self.world.clock.real_seconds(session.expires_at - self.world.clock.now()))
        return {
            "Credentials": {"Token": session.token, "TmpSecretId": session.tmp_secret_id,
                            "TmpSecretKey": session.tmp_secret_key},
            "ExpiredTime": expires,
            "Expiration": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def GetCallerIdentity(self, params: dict[str, Any]) -> dict[str, Any]:
        c, owner = self.caller, self.caller.owner_uin
        if c.session is not None:
            return {"Arn": f"qcs::sts:{owner}:assumed-role/{c.session.role_id}/{c.session.session_name}",
                    "AccountId": owner, "UserId": c.uin, "PrincipalId": owner, "Type": "AssumedRole"}
        if c.is_root:
            return {"Arn": f"qcs::cam::uin/{owner}:root", "AccountId": owner, "UserId": owner,
                    "PrincipalId": owner, "Type": "RootAccount"}
        return {"Arn": f"qcs::cam::uin/{owner}:uin/{c.uin}", "AccountId": owner, "UserId": c.uin,
                "PrincipalId": c.uin, "Type": "CAMUser"}
