"""The Web API methods: arguments in, workspace operation, Slack's JSON answer out (one method each)."""

import copy
import json
import time
from collections.abc import Callable
from typing import Any

from sandbox.slack import blockkit
from sandbox.slack.models import ResponseUrl, Workspace

MESSAGE_TEXT_MAX = 40_000
VIEW_BYTES_MAX = 250_000  # views.publish: view_too_large beyond 250 kB
RESPONSE_URL_MAX_USES = 5


class SlackError(Exception):
    """A Web API refusal: `{"ok": false, "error": code, ...extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> dict:
        """The JSON answer Slack sends for this error."""
        return {"ok": False, "error": self.code, **self.extra}


def _decode(value: Any) -> Any:
    """Form-encoded calls carry blocks and views as JSON strings; JSON calls carry them as objects."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_arguments") from None
    return value


def _required(args: dict, *names: str) -> None:
    missing = [n for n in names if not args.get(n)]
    if missing:
        raise SlackError("invalid_arguments", response_metadata={"messages": [f"missing required field: {m}"
                                                                             for m in missing]})


class WebApi:
    """Slack Web API methods over a `Workspace`."""

    def __init__(self, workspace: Workspace, trigger_ttl: float, bot_id: str, app_id: str) -> None:
        self.ws = workspace
        self.trigger_ttl = trigger_ttl
        self.bot_id = bot_id
        self.app_id = app_id
        self.methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "views.publish": self.views_publish,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.replies": self.conversations_replies,
            "usergroups.users.list": self.usergroups_users_list,
        }

    def call(self, method: str, args: dict) -> dict:
        """Run one method; a SlackError becomes Slack's error answer."""
        handler = self.methods.get(method)
        try:
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            return {"ok": True, **handler(args)}
        except SlackError as error:
            return error.body()

    # -- auth / directory --------------------------------------------------------------------------
    def auth_test(self, args: dict) -> dict:
        return {
            "url": "https://dtsbot-sandbox.slack.com/", "team": "dtsbot sandbox", "team_id": self.ws.team_id,
            "user": self.ws.users.get(self.ws.bot_user_id, "dtsbot"), "user_id": self.ws.bot_user_id,
            "bot_id": self.bot_id, "is_enterprise_install": False,
        }

    def users_info(self, args: dict) -> dict:
        _required(args, "user")
        if args["user"] not in self.ws.users:
            raise SlackError("user_not_found")
        include_locale = str(args.get("include_locale", "")).lower() in ("true", "1")
        return {"user": self.ws.user_profile(args["user"], include_locale)}

    def users_lookup_by_email(self, args: dict) -> dict:
        """As Slack: `users_not_found` for an address no active user of the workspace has; `missing_scope`
        without users:read.email."""
        _required(args, "email")
        if self.ws.scopes is not None and "users:read.email" not in self.ws.scopes:
            raise SlackError("missing_scope", needed="users:read.email", provided=",".join(sorted(self.ws.scopes)))
        user = self.ws.user_by_email(args["email"])
        if user is None:
            raise SlackError("users_not_found")
        return {"user": self.ws.user_profile(user)}

    def conversations_info(self, args: dict) -> dict:
        channel = self._channel(args)
        members = self.ws.members[channel]
        return {"channel": {
            "id": channel, "name": self.ws.channels[channel], "is_channel": True, "is_private": False,
            "is_archived": False, "is_member": self.ws.bot_user_id in members, "num_members": len(members),
        }}

    def conversations_members(self, args: dict) -> dict:
        members = self.ws.members[self._channel(args)]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        end = start + limit
        return {"members": members[start:end],
                "response_metadata": {"next_cursor": str(end) if end < len(members) else ""}}

    def usergroups_users_list(self, args: dict) -> dict:
        _required(args, "usergroup")
        if args["usergroup"] not in self.ws.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.ws.usergroups[args["usergroup"]])}

    # -- messages ----------------------------------------------------------------------------------
    def chat_post_message(self, args: dict) -> dict:
        channel = self._postable_channel(args)
        message = self._content(args)
        thread_ts = args.get("thread_ts")
        if thread_ts:
            if thread_ts not in self.ws.by_ts or self.ws.by_ts[thread_ts][0] != channel:
                raise SlackError("thread_not_found")
            message["thread_ts"] = thread_ts
        message = self.ws.add_message(channel, message)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def conversations_replies(self, args: dict) -> dict:
        """The parent and its replies, oldest first; metadata only with include_all_metadata (as Slack)."""
        _required(args, "channel", "ts")
        channel, ts = args["channel"], args["ts"]
        stored = self.ws.by_ts.get(ts)
        if stored is None or stored[0] != channel:
            raise SlackError("thread_not_found")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [stored[1], *self.ws.replies.get((channel, ts), [])]
        return {"messages": [{k: v for k, v in copy.deepcopy(m).items() if with_metadata or k != "metadata"}
                             for m in messages], "has_more": False}

    def chat_update(self, args: dict) -> dict:
        _required(args, "channel", "ts")
        stored = self.ws.by_ts.get(args["ts"])
        if stored is None or stored[0] != args["channel"]:
            raise SlackError("message_not_found")
        if stored[1].get("user") != self.ws.bot_user_id:
            raise SlackError("cant_update_message")
        changes = self._content(args, require_content=False)
        message = self.ws.update_message(args["ts"], changes, self.ws.bot_user_id)
        return {"channel": args["channel"], "ts": args["ts"], "text": message.get("text", ""),
                "message": copy.deepcopy(message)}

    def chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._postable_channel(args)
        _required(args, "user")
        if args["user"] not in self.ws.members[channel]:
            raise SlackError("user_not_in_channel")
        message = self._content(args)
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        stored = self.ws.add_ephemeral(channel, args["user"], message)
        return {"message_ts": stored["ts"]}

    def chat_get_permalink(self, args: dict) -> dict:
        _required(args, "channel", "message_ts")
        if args["message_ts"] not in self.ws.by_ts:
            raise SlackError("message_not_found")
        digits = args["message_ts"].replace(".", "")
        return {"channel": args["channel"],
                "permalink": f"https://dtsbot-sandbox.slack.com/archives/{args['channel']}/p{digits}"}

    # -- views -------------------------------------------------------------------------------------
    def views_open(self, args: dict) -> dict:
        view = self._view_arg(args)
        user = self._exchange_trigger(args.get("trigger_id"))
        return {"view": self._store_view(view, user, root_view_id=None, previous_view_id=None)}

    def views_push(self, args: dict) -> dict:
        view = self._view_arg(args)
        user = self._exchange_trigger(args.get("trigger_id"))
        root = next((v for v in reversed(self.ws.views.values()) if v["_user"] == user), None)
        if root is None:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["no open view to push onto"]})
        return {"view": self._store_view(view, user, root["root_view_id"], previous_view_id=root["id"])}

    def views_update(self, args: dict) -> dict:
        view = self._view_arg(args)
        current = self.ws.views.get(args.get("view_id") or "")
        if current is None and args.get("external_id"):
            current = next((v for v in self.ws.views.values() if v.get("external_id") == args["external_id"]),
                           None)
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        with self.ws.changed:
            kept = {k: current[k] for k in ("id", "team_id", "root_view_id", "previous_view_id", "_user")}
            current.clear()
            current.update(self._view_record(view), **kept)
            self.ws.changed.notify_all()
        return {"view": _public(current)}

    def views_publish(self, args: dict) -> dict:
        """A user's Home tab: only a `home` view (no title, submit or close), ≤ 100 blocks, ≤ 250 kB; `hash`
        guards against overwriting a newer publish; `not_enabled` when the app has no Home tab."""
        _required(args, "user_id", "view")
        if not self.ws.home_tab_enabled:
            raise SlackError("not_enabled")
        user = args["user_id"]
        if user not in self.ws.users or user == self.ws.bot_user_id:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
        if len(json.dumps(_decode(args["view"]))) > VIEW_BYTES_MAX:
            raise SlackError("view_too_large")
        view = self._view_arg(args)
        errors = [] if view.get("type") == "home" else ["must be home [json-pointer:/view/type]"]
        errors += [f"{key} is not allowed in a home view [json-pointer:/view/{key}]"
                   for key in ("title", "submit", "close") if key in view]
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        current = self.ws.home.get(user)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        record = self._view_record(view)
        view_id = current["id"] if current is not None else self.ws.next_id("V")
        record.update(id=view_id, team_id=self.ws.team_id, root_view_id=view_id, previous_view_id=None, _user=user)
        with self.ws.changed:
            self.ws.home[user] = record
            self.ws.changed.notify_all()
        return {"view": _public(record)}

    # -- response_url ------------------------------------------------------------------------------
    def respond(self, response_id: str, body: dict) -> tuple[int, dict]:
        """POST to a response_url: ephemeral reply, in-channel reply, replace or delete the original."""
        target = self.ws.response_urls.get(response_id)
        if target is None:
            return 404, {"ok": False, "error": "expired_url"}
        if target.uses >= RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        target.uses += 1
        try:
            self._respond(target, body)
        except SlackError as error:
            return 400, error.body()
        return 200, {"ok": True}

    def _respond(self, target: ResponseUrl, body: dict) -> None:
        original = target.message_ts
        if body.get("delete_original"):
            if original is None:
                raise SlackError("no_original_message")
            if target.is_ephemeral:
                with self.ws.changed:
                    self.ws.ephemerals = [e for e in self.ws.ephemerals if e["ts"] != original]
                    self.ws.changed.notify_all()
            else:
                self.ws.delete_message(original)
            return
        content = self._content(body)
        if body.get("replace_original") and original is not None:
            if target.is_ephemeral:
                ephemeral = self.ws.find_ephemeral(original)
                if ephemeral is None:
                    raise SlackError("message_not_found")
                with self.ws.changed:
                    ephemeral.update({k: v for k, v in content.items() if k in ("text", "blocks", "attachments")})
                    self.ws.changed.notify_all()
            else:
                self.ws.update_message(original, content, self.ws.bot_user_id)
        elif body.get("response_type") == "in_channel":
            if body.get("thread_ts"):
                content["thread_ts"] = body["thread_ts"]
            self.ws.add_message(target.channel, content)
        else:
            self.ws.add_ephemeral(target.channel, target.user, content)

    # -- shared ------------------------------------------------------------------------------------
    def _channel(self, args: dict) -> str:
        _required(args, "channel")
        if args["channel"] not in self.ws.channels:
            raise SlackError("channel_not_found")
        return args["channel"]

    def _postable_channel(self, args: dict) -> str:
        _required(args, "channel")
        if args["channel"] in self.ws.users:  # a user ID: the app's DM with that user, as Slack does
            if args["channel"] in self.ws.deactivated:
                raise SlackError("user_disabled")
            return self.ws.dm_channel(args["channel"])
        channel = self._channel(args)
        if self.ws.bot_user_id not in self.ws.members[channel]:
            raise SlackError("not_in_channel")
        return channel

    def _content(self, args: dict, require_content: bool = True) -> dict:
        """A message's text/blocks/attachments, validated as Slack does."""
        content: dict[str, Any] = {"type": "message", "user": self.ws.bot_user_id, "bot_id": self.bot_id,
                                   "app_id": self.app_id}
        text = args.get("text")
        blocks = _decode(args.get("blocks"))
        attachments = _decode(args.get("attachments"))
        if require_content and not (text or blocks or attachments):
            raise SlackError("no_text")
        if text is not None:
            if len(text) > MESSAGE_TEXT_MAX:
                raise SlackError("msg_too_long")
            content["text"] = text
        if blocks is not None:
            errors = blockkit.message_errors(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
            content["blocks"] = blocks
        if attachments is not None:
            content["attachments"] = attachments
        metadata = _decode(args.get("metadata"))
        if metadata is not None:
            if not (isinstance(metadata, dict) and metadata.get("event_type") and
                    isinstance(metadata.get("event_payload"), dict)):
                raise SlackError("invalid_metadata_format")
            content["metadata"] = metadata
        return content

    def _view_arg(self, args: dict) -> dict:
        _required(args, "view")
        view = _decode(args["view"])
        errors = blockkit.view_errors(view)
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        return view

    def _exchange_trigger(self, trigger_id: str | None) -> str | None:
        with self.ws.changed:
            trigger = self.ws.triggers.get(trigger_id or "")
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() - trigger.issued_at > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger.user

    def _view_record(self, view: dict) -> dict:
        record = {"type": "modal", "callback_id": "", "external_id": "", "private_metadata": "",
                  "clear_on_close": False, "notify_on_close": False, **copy.deepcopy(view)}
        record.update(state={"values": {}}, hash=f"{time.time():.0f}.{self.ws.next_id('')}",
                      app_id=self.app_id, bot_id=self.bot_id)
        return record

    def _store_view(self, view: dict, user: str | None, root_view_id: str | None,
                    previous_view_id: str | None) -> dict:
        view_id = self.ws.next_id("V")
        record = self._view_record(view)
        record.update(id=view_id, team_id=self.ws.team_id, root_view_id=root_view_id or view_id,
                      previous_view_id=previous_view_id, _user=user)
        with self.ws.changed:
            self.ws.views[view_id] = record
            self.ws.changed.notify_all()
        return _public(record)


def _public(view: dict) -> dict:
    """A view as Slack returns it (without the emulator's private bookkeeping)."""
    return {k: copy.deepcopy(v) for k, v in view.items() if not k.startswith("_")}
