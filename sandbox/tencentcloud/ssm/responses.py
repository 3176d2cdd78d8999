"""SSM (v20190923) actions on the wire: the caller's own account's secrets."""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.exceptions import InvalidParameter
from sandbox.tencentcloud.responder import Responder
from sandbox.tencentcloud.ssm.models import INITIAL_VERSION, SsmBackend, ssm_backend


class SsmResponse(Responder):
    """One method per SSM action."""

    @property
    def backend(self) -> SsmBackend:
        return ssm_backend(self.world, self.caller.owner_uin)

    def CreateSecret(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("SecretBinary") or not params.get("SecretString"):
            raise InvalidParameter("the sandbox keeps SecretString secrets only")
        version = self.backend.create(params["SecretName"], params["SecretString"],
                                      params.get("VersionId") or INITIAL_VERSION)
        return {"SecretName": params["SecretName"], "VersionId": version.version_id}

    def PutSecretValue(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("SecretBinary") or not params.get("SecretString"):
            raise InvalidParameter("the sandbox keeps SecretString secrets only")
        version = self.backend.put(params["SecretName"], params["SecretString"], params["VersionId"])
        return {"SecretName": params["SecretName"], "VersionId": version.version_id}

    def ListSecretVersionIds(self, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.backend.secret(params["SecretName"])
        return {"SecretName": secret.name,
                "Versions": [{"VersionId": v.version_id, "CreateTime": v.created} for v in secret.versions]}

    def GetSecretValue(self, params: dict[str, Any]) -> dict[str, Any]:
        version = self.backend.value(params["SecretName"], params["VersionId"])
        return {"SecretName": params["SecretName"], "VersionId": version.version_id, "SecretBinary": "",
                "SecretString": version.text}
