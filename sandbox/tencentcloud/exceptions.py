"""Tencent Cloud errors as the sandbox raises them: the real code and message, rendered in the envelope.

Responders raise `TencentCloudError(code, message)` (or a subclass below); the server turns it into
`{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`, which the real SDK raises as
`TencentCloudSDKException` with the same code.
"""

from __future__ import annotations


class TencentCloudError(Exception):
    """A Tencent Cloud API error: `code` is the real error code (e.g. `InvalidParameter.RoleNameInUse`)."""

    code = "InternalError"

    def __init__(self, code: str | None = None, message: str = "") -> None:
        if code:
            self.code = code
        self.message = message
        super().__init__(f"{self.code}: {message}")


class _Coded(TencentCloudError):
    """Base for errors with a fixed code: construct with the message only."""

    def __init__(self, message: str = "") -> None:
        super().__init__(None, message)


class InvalidAction(_Coded):
    code = "InvalidAction"


class UnknownParameter(_Coded):
    code = "UnknownParameter"


class MissingParameter(_Coded):
    code = "MissingParameter"


class InvalidParameter(_Coded):
    code = "InvalidParameter"


class InternalError(_Coded):
    code = "InternalError"


class RequestLimitExceeded(_Coded):
    code = "RequestLimitExceeded"


class UnauthorizedOperation(_Coded):
    code = "AuthFailure.UnauthorizedOperation"


class SignatureFailure(_Coded):
    code = "AuthFailure.SignatureFailure"


class SignatureExpire(_Coded):
    code = "AuthFailure.SignatureExpire"


class SecretIdNotFound(_Coded):
    code = "AuthFailure.SecretIdNotFound"


class TokenFailure(_Coded):
    code = "AuthFailure.TokenFailure"


class InvalidAuthorization(_Coded):
    code = "AuthFailure.InvalidAuthorization"


class InvalidParameterValue(_Coded):
    code = "InvalidParameterValue"
