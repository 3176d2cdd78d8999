"""Which STS AssumeRole answers prove that a role no longer exists: guided mode's *Role deleted — check*.

The bot cannot read a guided source account (it holds no keys there), so it proves from the target side: the
target root — whom the role trusts — asks STS for the role. Only an answer that says the role does not exist
closes the door. Any other one proves nothing: AssumeRole succeeding (the role is there), a denial (the role may
exist and trust someone else, or the target's keys may not assume roles), refused keys, a transient failure.
"""

from __future__ import annotations

ROLE_GONE: dict[str, str | None] = {
    # SDK sts/v20180813 errorcodes.py: 账号对应的角色不存在 (the account's role does not exist)
    "ResourceNotFound.RoleNotFound": None,
    # SDK: 获取角色失败 (getting the role failed), any CAM failure: it proves the role gone only with the wording of
    # the guide's FAQ 1, "role not exist"
    "InternalError.GetRoleError": "role not exist",
}
"""Error code -> the words its message must contain to count (None: the code alone says it)."""


def proves_role_gone(code: str, message: str) -> bool:
    """Whether STS's answer `code` / `message` to AssumeRole says the role does not exist (ROLE_GONE)."""
    if code not in ROLE_GONE:
        return False
    words = ROLE_GONE[code]
    return words is None or words in message.lower()
