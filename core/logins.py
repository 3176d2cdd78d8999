"""Database logins DTS uses, looked up per instance when they are used.

`databases.<instance id>` gives `user` and `password` (each a literal, a `${VAR}`, or `ssm://name[#key]`) or
`login: ssm://name` (a JSON secret `{"user": …, "password": …}`, or `{"UserName": …, "Password": …}` as Secrets
Manager's database credentials hold it, see LOGIN_KEYS). The `"*"` entry serves every instance not
listed, and its references may name the instance: `login: ssm://dtsbot-db-{instance}`, so a new instance
needs a new secret, not a restart. `ssm://` values are read through core.secrets (cached; `fresh=True` reads
again). Nothing here logs or raises a value: `LoginUnavailable` says which instance, which key and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import SecretStr
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.config import ANY_INSTANCE, INSTANCE_PLACEHOLDER, DatabaseLogin, Settings, is_ssm_reference
from core.secrets import SecretsManager, SecretUnavailable

LOGIN_KEYS = (("user", "password"), ("UserName", "Password"))
"""The (user, password) keys a `login:` secret may hold: a secret of one's own, and the shape of a Secrets Manager
database credential (the product secret SSM rotates; Tencent's ssm-rotation-sdk reads UserName and Password)."""


class LoginUnavailable(Exception):
    """No usable login for an instance; the message names the instance, the app.yaml key and the reason."""

    def __init__(self, instance: str, reason: str, cause: TencentCloudSDKException | None = None) -> None:
        super().__init__(f"database login for `{instance}`: {reason}")
        self.instance, self.reason, self.cause = instance, reason, cause


@dataclass(frozen=True)
class Login:
    """A resolved login: `key` is where it is configured (`databases.cdb-…` or `databases.*`)."""

    user: str
    password: SecretStr = field(repr=False)
    key: str


class DatabaseLogins:
    """`login(instance)`: the login DTS gets for that instance now (LoginUnavailable if none)."""

    def __init__(self, settings: Settings, secrets: SecretsManager | None = None,
                 on_secret: Callable[[str], None] = lambda _value: None) -> None:
        """`on_secret` is handed every password read (the log redactor learns it)."""
        self._databases = settings.databases
        self._secrets = secrets or SecretsManager(settings)
        self._on_secret = on_secret

    def entry(self, instance: str) -> tuple[str, DatabaseLogin] | None:
        """(app.yaml key, entry) that serves `instance`: its own, else the `"*"` one, else None."""
        if instance in self._databases:
            return f"databases.{instance}", self._databases[instance]
        if ANY_INSTANCE in self._databases:
            return f"databases.{ANY_INSTANCE}", self._databases[ANY_INSTANCE]
        return None

    def login(self, instance: str, fresh: bool = False) -> Login:
        """The login for `instance`; `fresh`: read its Secrets Manager values again, not from the cache."""
        found = self.entry(instance)
        if found is None:
            raise LoginUnavailable(instance, f"app.yaml has no databases.{instance} (nor a \"*\" entry); add one "
                                             "with user and password, or login: ssm://<secret>")
        key, entry = found
        try:
            if entry.login is not None:
                user, password = self._from_json(entry.login.replace(INSTANCE_PLACEHOLDER, instance), fresh)
            else:
                assert entry.user is not None and entry.password is not None  # the settings' own rule
                user = self._value(entry.user, instance, fresh)
                password = self._value(entry.password.get_secret_value(), instance, fresh)
        except SecretUnavailable as why:
            raise LoginUnavailable(instance, f"{key}: {why}", why.cause) from None
        self._on_secret(password)
        return Login(user, SecretStr(password), key)

    def from_secrets_manager(self, instance: str) -> bool:
        """Whether the login of `instance` is read from Secrets Manager (so reading it again may change it)."""
        found = self.entry(instance)
        return found is not None and any(is_ssm_reference(v) for v in found[1].references())

    def problem(self, instance: str) -> str | None:
        """Why `instance` has no usable login now, or None (reads Secrets Manager when the login is there)."""
        try:
            self.login(instance)
        except LoginUnavailable as unavailable:
            return str(unavailable)
        return None

    def _value(self, configured: str, instance: str, fresh: bool) -> str:
        if not is_ssm_reference(configured):
            return configured
        return self._secrets.read(configured.replace(INSTANCE_PLACEHOLDER, instance), fresh).value

    def _from_json(self, reference: str, fresh: bool) -> tuple[str, str]:
        text = self._secrets.read(reference, fresh, whole_json=True).value
        try:
            document = json.loads(text)
        except ValueError:
            raise SecretUnavailable(f"{reference}: the secret is not JSON with user and password") from None
        for user, password in LOGIN_KEYS:
            if isinstance(document, dict) and all(isinstance(document.get(k), str) and document[k]
                                                  for k in (user, password)):
                return document[user], document[password]
        raise SecretUnavailable(f"{reference}: the secret's JSON needs non-empty \"user\" and \"password\" "
                                "(or \"UserName\" and \"Password\", a Secrets Manager database credential)")
