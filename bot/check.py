"""`dtsbot check`: is this configuration ready to run? Each account's keys and the Slack side, asked live.

For every account: STS GetCallerIdentity with its keys must answer `AccountId == uin` (the bot acts as that
account), and with the executor sub-account's keys `UserId == executor_uin` within that account. For Slack:
`auth.test` must accept the bot token, the bot must be a member of `slack.channel`, and every approver and requester
must be known to Slack (e-mail addresses resolved with users.lookupByEmail). Each item is ready
(✓) or not (✗, with the reason and the fix); nothing is created or changed anywhere. Any exception an item
raises (a network error, a malformed URL, the SDK finding no credentials) is that item's ✗, never a traceback:
the table is always printed whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import CloudClients, CloudConfigError
from core.config import AccountSettings, Settings, is_email
from core.diagnosis import diagnose

SLACK_FIXES = {
    "invalid_auth": "Set SLACK_BOT_TOKEN (slack.bot_token) to the app's Bot User OAuth Token (xoxb-…).",
    "not_authed": "Set SLACK_BOT_TOKEN (slack.bot_token); it is empty.",
    "account_inactive": "The token's app or workspace was deactivated: reinstall the app and use its new token.",
    "token_revoked": "The token was revoked: reinstall the app and use its new Bot User OAuth Token.",
    "channel_not_found": "Check slack.channel (a channel ID such as C0123ABCD); for a private channel, invite the "
                         "bot first.",
}


@dataclass(frozen=True)
class Item:
    """One thing that is ready or not, with why and what to do."""

    what: str
    ready: bool
    detail: str
    fix: str = ""
    warning: str = ""
    """Ready, but worth changing (root-account keys)."""


ROOT_KEYS = ("these are the root account's keys: they may do anything in the account. Give the bot a "
             "sub-account's keys with only the policy in docs/setup.md (\"The accounts\").")


def is_root_identity(answer: dict) -> bool:
    """GetCallerIdentity's answer for a root account's keys (Type RootAccount, or UserId = AccountId)."""
    return answer.get("Type") == "RootAccount" or str(answer.get("UserId")) == str(answer.get("AccountId"))


def _identity(what: str, call: Callable[[], dict], expect: Callable[[dict], str | None],
              ok: Callable[[dict], str]) -> Item:
    """Run GetCallerIdentity; `expect(answer)` returns the mismatch, if any."""
    try:
        answer = call()
    except CloudConfigError as error:
        return Item(what, False, str(error), "Configure the keys named above in app.yaml.")
    except TencentCloudSDKException as error:
        diagnosis = diagnose(error, "GetCallerIdentity")
        return Item(what, False, diagnosis.what, diagnosis.fix)
    except Exception as error:  # noqa: BLE001 - any failure of this item is its ✗ (the table goes on)
        return Item(what, False, one_line(error), _cloud_fix(error))
    mismatch = expect(answer)
    return Item(what, mismatch is None, mismatch or ok(answer),
                "" if mismatch is None else "Use the keys of that account, or fix the UIN in app.yaml.",
                ROOT_KEYS if mismatch is None and is_root_identity(answer) else "")


GUIDED_MEANING = ("guided: no CAM keys; its owner runs the CAM steps dtsbot posts (console, tccli, Terraform) "
                  "and presses verify")


def account_items(account: AccountSettings, clients: CloudClients) -> list[Item]:
    """The account's own keys, and its executor sub-account's keys when configured; a guided account without
    keys is ready as it is (the bot never calls the cloud as it)."""
    if account.access == "guided" and account.credentials is None:
        return [Item(f"accounts[{account.name}] access", True, f"{GUIDED_MEANING}; no keys configured, none needed "
                     "(as a target it would need DTS keys)")]
    items = [_identity(
        f"accounts[{account.name}] keys", lambda: clients.sts(account.name).call("GetCallerIdentity"),
        lambda a: None if str(a.get("AccountId")) == account.uin else
        f"the keys belong to account {a.get('AccountId')}, not to the configured uin {account.uin}",
        lambda a: f"keys of account {a.get('AccountId')} ({a.get('Type', 'identity')})",
    )]
    if account.executor_uin is not None and account.executor_credentials is not None:
        executor = account.executor_uin
        items.append(_identity(
            f"accounts[{account.name}] executor {executor}",
            lambda: clients.sts(account.name, executor).call("GetCallerIdentity"),
            lambda a: None if (str(a.get("UserId")), str(a.get("AccountId"))) == (executor, account.uin) else
            f"the executor keys belong to {a.get('UserId')} of account {a.get('AccountId')}, not to sub-account "
            f"{executor} of {account.uin}",
            lambda a: f"keys of sub-account {a.get('UserId')} of account {a.get('AccountId')}",
        ))
    elif account.executor_uin is not None:
        items.append(Item(f"accounts[{account.name}] executor {account.executor_uin}", False,
                          "executor_uin is set without executor_credentials: a request naming this sub-account as "
                          "executor would be refused; add its keys, or remove executor_uin"))
    if account.access == "guided":
        items.append(Item(f"accounts[{account.name}] access", True,
                          f"{GUIDED_MEANING}; its keys are used for DTS and STS only"))
    return items


def slack_items(settings: Settings, client: WebClient) -> list[Item]:
    """The bot token works, and the bot is in the configured channel."""
    channel = settings.slack.channel
    try:
        auth = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        return [Item("slack.bot_token", False, f"auth.test answered {code}", SLACK_FIXES.get(code, "")),
                Item(f"slack.channel {channel}", False, "not checked: the token does not work")]
    except Exception as error:  # noqa: BLE001 - unreachable Slack or a malformed api_url is this item's ✗
        return [Item("slack.bot_token", False, f"auth.test at {client.base_url} failed: {one_line(error)}",
                     "Check slack.api_url (SLACK_API_URL; empty means https://slack.com/api/) and that this host "
                     "reaches Slack (proxy, firewall, DNS)."),
                Item(f"slack.channel {channel}", False, "not checked: Slack did not answer")]
    items = [Item("slack.bot_token", True, f"bot @{auth.get('user')} ({auth.get('user_id')}) in {auth.get('team')}")]
    try:
        info = client.conversations_info(channel=channel)["channel"]
        member = info["is_member"] if "is_member" in info else _listed(client, channel, str(auth.get("user_id")))
    except SlackApiError as error:
        code = str(error.response.get("error"))
        return [*items, Item(f"slack.channel {channel}", False, f"conversations.info answered {code}",
                             SLACK_FIXES.get(code, ""))]
    except Exception as error:  # noqa: BLE001 - as above
        return [*items, Item(f"slack.channel {channel}", False, f"conversations.info failed: {one_line(error)}",
                             "Check that this host reaches Slack, then run the check again.")]
    name = f"#{info.get('name', channel)}"
    if member:
        return [*items, Item(f"slack.channel {channel}", True, f"the bot is a member of {name}")]
    return [*items, Item(f"slack.channel {channel}", False, f"the bot is not a member of {name}",
                         f"Invite it: type `/invite @{auth.get('user')}` in {name}.")]


def people_items(settings: Settings, client: WebClient) -> list[Item]:
    """Each list of people as Slack knows it: every account's approvers and requesters, then the top-level
    requesters (an empty requesters list means anyone and is not listed); see `_people_item`."""
    lists = [(f"accounts[{a.name}] approvers", a.approvers) for a in settings.accounts]
    lists += [(f"accounts[{a.name}] requesters", a.requesters) for a in settings.accounts if a.requesters]
    if settings.requesters:
        lists.append(("requesters", settings.requesters))
    items: list[Item] = []
    for what, entries in lists:
        item = _people_item(client, what, entries)
        items.append(item)
        if item.detail.startswith("not checked"):  # Slack is unreachable: the other lists would say the same
            break
    return items


def _people_item(client: WebClient, what: str, entries: list[str]) -> Item:
    """One list of people: e-mail addresses (users.lookupByEmail), user groups (usergroups.users.list) and user
    IDs (users.info); an entry Slack does not know is reported with the fix."""
    found, unknown = [], []
    for entry in entries:
        try:
            who = _person(client, entry)
        except SlackApiError as error:
            unknown.append(f"{entry} ({error.response.get('error')})")
            continue
        except Exception as error:  # noqa: BLE001 - unreachable Slack is this item's ✗
            return Item(what, False, f"not checked: {one_line(error)}", "Check that this host reaches Slack.")
        found.append(f"{entry} → {who}" if who != entry else entry)
    if not unknown:
        return Item(what, True, ", ".join(found))
    fix = ("Add the users:read.email and usergroups:read scopes (see `dtsbot manifest`) and reinstall the app."
           if any("missing_scope" in u for u in unknown) else
           "Use the address of an active Slack user (its profile e-mail), an existing user group (S…) or "
           "user ID (U…/W…).")
    return Item(what, False, "unknown to Slack: " + ", ".join(unknown), fix)


def _person(client: WebClient, entry: str) -> str:
    """Who an approver or requester entry stands for, as a short text; SlackApiError when Slack does not know it."""
    if is_email(entry):
        return str(client.users_lookupByEmail(email=entry)["user"]["id"])
    if entry.startswith("S"):
        users = client.usergroups_users_list(usergroup=entry).get("users") or []
        return f"user group of {len(users)}"
    user = client.users_info(user=entry)["user"]
    if user.get("deleted"):
        raise SlackApiError("deactivated", {"ok": False, "error": "account_inactive"})
    return entry


def _listed(client: WebClient, channel: str, user_id: str) -> bool:
    cursor = None
    while True:
        page = client.conversations_members(channel=channel, cursor=cursor, limit=200)
        if user_id in page["members"]:
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False


def one_line(error: BaseException) -> str:
    """The error as `Type: first line of its message`."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


def _cloud_fix(error: BaseException) -> str:
    if isinstance(error, OSError) and "TKE_REGION" in str(error):
        # The SDK's default chain (env, profile, CVM role) ends with the TKE OIDC provider, whose OSError is
        # what remains when no link found keys.
        return ("No keys found: set this account's credentials (secret_id, secret_key) in app.yaml, or run "
                "where the SDK's default chain finds them (TENCENTCLOUD_SECRET_ID/KEY, a profile, a CVM role).")
    return ("Check tencentcloud.endpoint (TENCENTCLOUD_ENDPOINT; empty means the real API) and that this host "
            "reaches Tencent Cloud.")


def table(items: list[Item]) -> list[str]:
    """The items as aligned lines: ✓/✗, what, detail, and on its own line the fix of what is not ready."""
    width = max((len(i.what) for i in items), default=0)
    lines = []
    for item in items:
        lines.append(f"{'✓' if item.ready else '✗'} {item.what.ljust(width)}  {item.detail}")
        if not item.ready and item.fix:
            lines.append(f"  {' ' * width}  fix: {item.fix}")
        if item.warning:
            lines.append(f"  {' ' * width}  warning: {item.warning}")
    ready = sum(i.ready for i in items)
    lines.append(f"{ready}/{len(items)} ready" + ("" if ready == len(items) else "; fix the ✗ items above"))
    return lines
