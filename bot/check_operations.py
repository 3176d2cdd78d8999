"""`dtsbot check`, the operator's items: the database and its schema, the Socket Mode app token, each database
login, the API keys' CAM permissions as far as they can be proven without a change, and the published sandbox
secrets outside a sandbox. Like every check item, each is asked live, changes nothing, and never shows a secret.

CAM (v20190116) has no policy simulation or evaluation action (only permission boundaries), so a permission is
proven only by an action that changes nothing: a read the bot needs anyway (`PROVABLE`), answered with anything
but an authorization refusal. Every other action the bot needs is listed as not proven: it is proven when the bot
first uses it. What is needed depends on the side an account is (`SIDES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from bot.check import Item, account_items, one_line, people_items, slack_items
from core.cloud import CloudClients, CloudConfigError
from core.config import ANY_INSTANCE, AccountSettings, Settings
from core.logins import DatabaseLogins
from core.sandbox_secrets import sandbox_secret_problems
from storage.db import current_revision, head_revision

PROBE_ROLE = "dtsbot-check-permission-probe"
"""A role name nobody has: GetRole on it proves cam:GetRole (a refusal) or not, and reads nothing of anyone's."""

PROVABLE: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cam:GetRole": ("cam", "GetRole", {"RoleName": PROBE_ROLE}),
    "cam:ListPolicies": ("cam", "ListPolicies", {"Rp": 1}),
    "dts:DescribeMigrationJobs": ("dts", "DescribeMigrationJobs", {"Limit": 1}),
}
"""Action → the harmless call that proves it (service, API action, parameters)."""

SIDES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "source": (("cam:GetRole",), ("cam:CreateRole", "cam:DeleteRole", "cam:AttachRolePolicy",
                                  "cam:DetachRolePolicy", "cam:ListAttachedRolePolicies")),
    "target": (("dts:DescribeMigrationJobs",), ("dts:CreateMigrationService", "dts:ModifyMigrationJob",
                                                "dts:CreateMigrateCheckJob", "dts:StartMigrateJob",
                                                "dts:CompleteMigrateJob", "dts:StopMigrateJob",
                                                "dts:PauseMigrateJob", "dts:ContinueMigrateJob",
                                                "dts:ModifyMigrateRateLimit", "sts:AssumeRole")),
}
"""What each side's keys need (docs/setup.md, "The accounts": one policy per side), as (provable, only a change proves).
app.yaml does not say which side an account is, so keys are ready when they fit one."""

GRANT = (("cam:ListPolicies",), ("cam:CreatePolicy", "cam:DeletePolicy", "cam:AttachUserPolicy",
                                 "cam:DetachUserPolicy"))
"""What a managed target with an executing sub-account (`executor_uin`) needs on top: the last statement of docs/setup.md's target policy."""


def account_sides(account: AccountSettings) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The sides these keys may serve, with what each needs: a guided account's keys only run DTS (its owner does
    the CAM steps; a guided source has no keys)."""
    provable, unprovable = SIDES["target"]
    if account.access == "managed" and account.executor_uin:
        provable, unprovable = provable + GRANT[0], unprovable + GRANT[1]
    target = {"target": (provable, unprovable)}
    return {"source": SIDES["source"], **target} if account.access == "managed" else target


APP_TOKEN_FIXES = {
    "invalid_auth": "Set SLACK_APP_TOKEN (slack.app_token) to the app-level token (xapp-…) with connections:write.",
    "not_allowed_token_type": "slack.app_token holds another kind of token: use the app-level token (xapp-…).",
    "not_authed": "Set SLACK_APP_TOKEN (slack.app_token); it is empty.",
}


def sandbox_items(settings: Settings) -> list[Item]:
    """One ✗ per published sandbox secret used outside a sandbox (core/sandbox_secrets.py)."""
    return [Item(problem.partition(":")[0], False, "the published sandbox value",
                 problem.partition(": ")[2]) for problem in sandbox_secret_problems(settings)]


def storage_item(settings: Settings) -> Item:
    """The database answers and its schema is at this version's head (nothing is created or migrated)."""
    url = make_url(settings.storage.url)
    shown, what = url.render_as_string(hide_password=True), "storage.url"
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return Item(what, False, f"{shown}: no database file yet", "Run `dtsbot db upgrade` (it creates it).")
    connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        current = current_revision(engine)
    except (SQLAlchemyError, OSError) as error:
        return Item(what, False, f"{shown}: cannot connect: {one_line(getattr(error, 'orig', None) or error)}",
                    "Check that the database is reachable and the URL's user may log in (DTSBOT_DATABASE_URL).")
    finally:
        engine.dispose()
    head = head_revision()
    if current != head:
        return Item(what, False, f"{shown}: schema at {current or 'nothing'}, this version needs {head}",
                    "Run `dtsbot db upgrade`.")
    return Item(what, True, f"{shown}: reachable, schema at {head} (this version's)")


def app_token_item(settings: Settings) -> list[Item]:
    """Socket Mode only: Slack's apps.connections.open accepts the app token (the URL it issues goes unused)."""
    token = settings.slack.app_token
    if token is None:
        return []
    client = WebClient(base_url=settings.slack.api_url or WebClient.BASE_URL, timeout=10)
    try:
        client.apps_connections_open(app_token=token.get_secret_value())
    except SlackApiError as error:
        code = str(error.response.get("error"))
        return [Item("slack.app_token", False, f"apps.connections.open answered {code}",
                     APP_TOKEN_FIXES.get(code, ""))]
    except Exception as error:  # noqa: BLE001 - unreachable Slack is this item's ✗
        return [Item("slack.app_token", False, f"apps.connections.open failed: {one_line(error)}",
                     "Check that this host reaches Slack.")]
    return [Item("slack.app_token", True, "apps.connections.open accepts it (Socket Mode)")]


def login_items(settings: Settings, logins: DatabaseLogins) -> list[Item]:
    """Each configured database login: resolvable or why not (never a value)."""
    items = []
    for instance in settings.databases:
        what = f"databases.{instance}"
        if instance == ANY_INSTANCE:
            items.append(Item(what, True, "serves every instance not listed; its login is read when used"))
            continue
        problem = logins.problem(instance)
        source = "Secrets Manager" if logins.from_secrets_manager(instance) else "app.yaml"
        items.append(Item(what, True, f"user and password resolvable ({source})") if problem is None else
                     Item(what, False, problem, "Fix the entry or its secret; a request into it is refused until "
                                                "then."))
    return items


def permission_item(account: AccountSettings, clients: CloudClients, region: str) -> Item:
    """What the account's keys may do, as far as a harmless read proves it; ready when they fit a source or a
    target account (SIDES); the rest listed as not proven."""
    what = f"accounts[{account.name}] permissions"
    sides = account_sides(account)
    refused, proven = [], []
    for action in dict.fromkeys(a for provable, _unprovable in sides.values() for a in provable):
        service, api_action, params = PROVABLE[action]
        try:
            api = clients.cam(account.name) if service == "cam" else clients.dts(account.name, region)
            api.call(api_action, params)
        except TencentCloudSDKException as error:
            if "UnauthorizedOperation" in str(error.get_code()):
                refused.append(action)
                continue
        except (CloudConfigError, OSError) as error:
            return Item(what, False, f"not checked: {one_line(error)}")
        proven.append(action)
    fits = [side for side, (provable, _unprovable) in sides.items() if not set(provable) & set(refused)]
    unproven = [a for side in fits or sides for a in sides[side][1]]
    detail = (f"allowed: {', '.join(proven) or 'none'}; not provable without a change (CAM has no policy "
              f"simulation): {', '.join(unproven)}")
    if not fits:
        return Item(what, False, f"refused: {', '.join(refused)}; {detail}",
                    "Attach the policy of docs/setup.md for the side this account is (\"The accounts\") to these keys.")
    unfit = [f"not a {side} account: refused {', '.join(a for a in sides[side][0] if a in refused)}"
             for side in sides if side not in fits]
    return Item(what, True, f"as a {' or a '.join(fits)} account: {detail}", warning="; ".join(unfit))


def check(settings: Settings, clients: CloudClients, client: WebClient, logins: DatabaseLogins | None = None
          ) -> list[Item]:
    """Every item of the configuration, asked live; nothing is changed."""
    items = [*sandbox_items(settings), storage_item(settings)]
    for account in settings.accounts:
        found = account_items(account, clients)
        items += found
        if all(item.ready for item in found) and (account.credentials is not None or account.access == "managed"):
            items.append(permission_item(account, clients, settings.tencentcloud.region))
    items += login_items(settings, logins or clients.logins)
    slack = slack_items(settings, client)
    items += slack + app_token_item(settings)
    return items if not slack[0].ready else items + people_items(settings, client)
