"""Drift check of core.role_gone against the installed SDK: each code that proves a guided role deleted is one STS
documents (sts/v20180813 errorcodes.py), and every other documented STS code proves nothing."""

from __future__ import annotations

import pytest
from tencentcloud.sts.v20180813 import errorcodes

from core.role_gone import ROLE_GONE, proves_role_gone

DOCUMENTED = {value for name, value in vars(errorcodes).items() if name.isupper() and isinstance(value, str)}


def test_each_proving_code_is_documented_by_sts() -> None:
    assert DOCUMENTED, "the SDK's STS error codes were not found"
    assert set(ROLE_GONE) <= DOCUMENTED, sorted(set(ROLE_GONE) - DOCUMENTED)


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_only_role_not_found_answers_prove_it(code: str) -> None:
    said = "role not exist: qcs::cam::uin/100000000001:roleName/r"
    assert proves_role_gone(code, said) is (code in ROLE_GONE)


def test_get_role_error_proves_it_only_with_the_guides_wording() -> None:
    assert proves_role_gone("InternalError.GetRoleError", "role not exist: qcs::cam::uin/1:roleName/r")
    assert not proves_role_gone("InternalError.GetRoleError", "get role error")
    assert proves_role_gone("ResourceNotFound.RoleNotFound", "")
