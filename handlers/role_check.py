"""What the plan says about the source role, from one read of CAM when a request is opened or edited: absent
(the bot creates it), made by dtsbot (shared or not), or made by a person (used as it is, or what its owner
must add first). Never writes; the step checks again when it runs."""

from __future__ import annotations

from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients, CloudConfigError
from handlers.authorize_source import trust_document
from handlers.cam_lookup import attached_role_policies, get_role, same_document
from storage.models import MigrationRequest


def inspect_role(request: MigrationRequest, clients: CloudClients) -> dict[str, Any]:
    """The `role_plan` fact: {"role": absent|dtsbot|person|unknown, "owner", "trust_fits", "missing"}."""
    try:
        cam = clients.cam(request.source_account)
        role = get_role(cam, request.role_name)
        if role is None:
            return {"role": "absent"}
        trust_fits = same_document(role["PolicyDocument"], trust_document(request))
        owner = policies.tagged_owner(role.get("Tags"))
        if owner is not None:
            return {"role": "dtsbot", "owner": owner, "trust_fits": trust_fits}
        attached = attached_role_policies(cam, request.role_name) if trust_fits else {}
        missing = [name for name in policies.source_policies(request.db_type) if name not in attached]
        return {"role": "person", "trust_fits": trust_fits, "missing": missing if trust_fits else []}
    except (TencentCloudSDKException, CloudConfigError) as error:
        code = error.get_code() if isinstance(error, TencentCloudSDKException) else "Configuration"
        return {"role": "unknown", "error": str(code)[:64]}
