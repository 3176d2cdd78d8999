"""Validation of a migration request, one function per field of the `/dts-migrate` form.

Each field function returns the normalized value or raises `FieldError`, whose message starts with the field
name, says what is allowed, and echoes at most 60 characters of the input (control characters and backticks
replaced) so it can be shown in Slack as is once escaped. `validate_request` adds the cross-field rules and
reports every bad field at once; `parse_inline` reads the `key=value` text of the slash command.

Decisions:
- Accounts are named by their configured `name` or root UIN; both normalize to the name.
- Regions must match Tencent's `ap-guangzhou` form *and* be in `REGIONS` (the modal's select needs the list,
  and a typo such as `ap-guangzou` is caught before anything is bought); a new region is one line here.
- `db_type` accepts the canonical names, the console labels and a few aliases (`pg`, `mongo`, `mssql`, ...).
- `migrate_type` accepts any case and `full+increment` / `full_and_increment` spellings; the default is
  `fullAndIncrement`, the guide's usual choice and the only one Redis/Tendis support.
- `objects` is `all` or a comma list of `db` / `db.table` with MySQL's unquoted identifier rules (1-64 of
  `[A-Za-z0-9_$]`, no quoting); normalized to a sorted comma string. Redis/Tendis migrate whole instances, so
  only `all` is accepted for them.
- `db_type` names an engine of the guide's cross-account scope; MariaDB and Percona only when the operator lists
  them in `dts.experimental_engines` (the caller passes that list).
- `write_mode` is DTS's DstWriteMode for the Redis family, spelt as documented (`clearData`, `overwrite`,
  `normal`; any case is read); empty means `normal`, so the bot never overwrites or clears a target unless
  asked. The other engines take none: a value there is refused, naming the field.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from core import db_kinds, topology
from core.i18n import N_, _

ROOT = "root"
MAX_ECHO = 60
MAX_INLINE = 4000  # far above a full request; shlex is slow on megabytes

REGIONS: tuple[str, ...] = (
    "ap-guangzhou", "ap-shenzhen-fsi", "ap-shanghai", "ap-shanghai-fsi", "ap-nanjing", "ap-beijing",
    "ap-beijing-fsi", "ap-chengdu", "ap-chongqing", "ap-hongkong", "ap-taipei", "ap-singapore", "ap-jakarta",
    "ap-bangkok", "ap-seoul", "ap-tokyo", "ap-mumbai", "na-siliconvalley", "na-ashburn", "na-toronto",
    "sa-saopaulo", "eu-frankfurt", "eu-moscow",
)

REGION_FORM = r"[a-z]{2,4}-[a-z]+(-[a-z]+)?"
UIN_FORM = r"[0-9]{1,20}"
INSTANCE_SUFFIX = r"[a-z0-9]{8}"
CAM_ROLE_NAME = r"[A-Za-z0-9_+=,.@-]{1,128}"
DTS_ACCOUNT_ROLE = r"[A-Za-z0-9_-]+"
EXTERNAL_ID = r"[A-Za-z0-9_+=,.@:/-]{2,128}"
IDENTIFIER = r"[A-Za-z0-9_$]{1,64}"

REQUIRED = (
    "source_account", "source_region", "source_instance",
    "target_account", "target_region", "target_instance", "db_type",
)
OPTIONAL_DEFAULTS: dict[str, str | None] = {
    "role_name": None,  # empty: the request gets its own role, policies.default_role_name(request id)
    "external_id": None,
    "executor": ROOT,
    "migrate_type": db_kinds.FULL_AND_INCREMENT,
    "objects": "all",
    "write_mode": None,  # empty: normal for the Redis family (core.topology.DEFAULT_WRITE_MODE), else none
    "start_at": None,  # empty: DTS starts the task at once (RunMode immediate)
    "cutover_at": None,  # empty: no cutover window (the gate does not wait for one)
    "read_only_target": None,  # empty: the target stays writable during the migration (DTS's default)
}
FIELDS: tuple[str, ...] = REQUIRED + tuple(OPTIONAL_DEFAULTS)
_REQUIRED_HINTS = {
    "source_account": N_("a configured account name or root UIN"),
    "target_account": N_("a configured account name or root UIN"),
    "source_region": N_("e.g. ap-guangzhou"),
    "target_region": N_("e.g. ap-guangzhou"),
    "source_instance": N_("e.g. cdb-ab12cd34"),
    "target_instance": N_("e.g. cdb-ab12cd34"),
    "db_type": N_("one of {engines}"),
}


class AccountRef(Protocol):
    """What validation needs of a configured account (the config's account model satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def uin(self) -> str: ...
    @property
    def executor_uin(self) -> str | None: ...


class FieldError(ValueError):
    """A request field a person must fix; `message` starts with the field name and says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def shown(value: str) -> str:
    """User input as it may appear in a message: printable, no backticks, at most MAX_ECHO characters."""
    clipped = value[:MAX_ECHO]
    safe = "".join(c if c.isprintable() and c != "`" else "?" for c in clipped)
    return safe + ("…" if len(value) > MAX_ECHO else "")


def free_text(value: str) -> str:
    """Free text a person wrote (a reject reason) as it may be stored and shown: without bidi overrides and
    isolates, zero-width and other invisible format or control characters (newlines and tabs stay; line and
    paragraph separators become newlines, other spaces a plain space), trimmed. U+202E could otherwise reverse what readers see."""
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Zl", "Zp"):
            kept.append("\n")
        elif category == "Zs":
            kept.append(" ")
        elif char in "\n\t" or category not in ("Cc", "Cf", "Co", "Cs", "Cn"):
            kept.append(char)
    return "".join(kept).strip()


def named(value: str) -> str:
    """A name the user typed (a key, a request id) as it may appear outside a code span: bare when it is
    letters/digits inside, with `_ . -` only between them (it cannot format), else `shown` in a code span."""
    if re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,58}[A-Za-z0-9])?", value):
        return value
    return f"`{shown(value)}`"


def did_you_mean(word: str, known: Sequence[str]) -> str | None:
    """The one of `known` that `word` is a near miss of (a typo such as `cancle`), or None (also for a hit)."""
    if word in known:
        return None
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return close[0] if close else None


def _fail(field: str, value: str, problem: str) -> FieldError:
    return FieldError(field, _("{field}: `{value}` {problem}", field=field, value=shown(value), problem=problem))


# --- accounts -----------------------------------------------------------------------------------------------

def _account(field: str, value: str, accounts: Sequence[AccountRef]) -> str:
    text = value.strip()
    known = ", ".join(f"{a.name} ({a.uin})" for a in accounts) or _("none configured")
    if not text:
        raise FieldError(field, _("{field}: required; use a configured account name or its root UIN: {known}",
                                  field=field, known=known))
    for a in accounts:
        if text == str(a.uin) or text.lower() == a.name.lower():
            return a.name
    if text[0].isdigit() and not re.fullmatch(UIN_FORM, text):
        raise _fail(field, text, _("is not a UIN; a UIN is digits only. Configured accounts: {known}", known=known))
    raise _fail(field, text, _("is not a configured account; use an account name or its root UIN: {known}",
                               known=known))


def source_account(value: str, accounts: Sequence[AccountRef]) -> str:
    """The account that owns the source database (it creates the CAM role); returns its name."""
    return _account("source_account", value, accounts)


def target_account(value: str, accounts: Sequence[AccountRef]) -> str:
    """The account that owns the target database and buys the DTS task; returns its name."""
    return _account("target_account", value, accounts)


# --- regions ------------------------------------------------------------------------------------------------

def _region(field: str, value: str) -> str:
    text = value.strip().lower()
    if not re.fullmatch(REGION_FORM, text):
        raise _fail(field, value, _("is not a Tencent Cloud region; expected the form ap-guangzhou"))
    if text not in REGIONS:
        close = difflib.get_close_matches(text, REGIONS, n=1)
        hint = _("did you mean {region}? ", region=close[0]) if close else ""
        raise _fail(field, value, _("is not a known region; {hint}known: {regions}", hint=hint,
                                    regions=", ".join(REGIONS)))
    return text


def source_region(value: str) -> str:
    """The source instance's region, e.g. ap-guangzhou."""
    return _region("source_region", value)


def target_region(value: str) -> str:
    """The target instance's region, e.g. ap-guangzhou."""
    return _region("target_region", value)


# --- engine, instances --------------------------------------------------------------------------------------

def engines(experimental: Collection[str] = ()) -> str:
    """The engines a request may name, as a comma list for messages and hints."""
    return ", ".join(e.name for e in db_kinds.offered(experimental))


def db_type(value: str, experimental: Collection[str] = ()) -> str:
    """The engine of both instances; returns its canonical name (see `core.db_kinds`). An engine outside the
    guide's cross-account scope is refused unless listed in `experimental` (dts.experimental_engines)."""
    try:
        engine = db_kinds.db_kind(value.strip())
    except KeyError:
        raise _fail("db_type", value, _("is not a supported engine; allowed: {allowed}",
                                        allowed=engines(experimental))) from None
    if engine not in db_kinds.offered(experimental):
        raise _fail("db_type", value, _("is not covered by Tencent's cross-account guide; supported: {allowed} "
                                        "(an operator may enable it with dts.experimental_engines)",
                                        allowed=engines(experimental)))
    return engine.name


def _instance(field: str, value: str, engine_name: str | None) -> str:
    text = value.strip().lower()
    if engine_name is None:
        prefixes = sorted({p for e in db_kinds.DB_KINDS for p in e.instance_prefixes})
        what = _("a TencentDB instance ID")
    else:
        eng = db_kinds.db_kind(engine_name)
        prefixes, what = list(eng.instance_prefixes), _("a {engine} instance ID", engine=eng.label)
    if any(re.fullmatch(re.escape(p) + INSTANCE_SUFFIX, text) for p in prefixes):
        return text
    expected = _(" or ").join(prefixes)
    raise _fail(
        field, value,
        _("is not {what}; expected {expected} followed by 8 lowercase letters or digits, e.g. {example}",
          what=what, expected=expected, example=f"{prefixes[0]}ab12cd34"),
    )


def source_instance(value: str, engine_name: str | None = None) -> str:
    """The source instance ID; checked against the engine's prefix when the engine is known."""
    return _instance("source_instance", value, engine_name)


def target_instance(value: str, engine_name: str | None = None) -> str:
    """The target instance ID; checked against the engine's prefix when the engine is known."""
    return _instance("target_instance", value, engine_name)


# --- role, external ID, executor ----------------------------------------------------------------------------

RESERVED_ROLE_PREFIX = "dtsbot-"
"""Default role names are `dtsbot-<request id>` (policies.default_role_name): nobody may take one by hand."""


def role_name(value: str) -> str | None:
    """The CAM role in the source account; must satisfy CAM and DTS's stricter `AccountRole`.

    Empty is None: the request then gets a role of its own, named after its id when it is stored."""
    text = value.strip()
    if not text:
        return None
    dts_rule = _("DTS allows letters, digits, - and _ only")
    if not re.fullmatch(CAM_ROLE_NAME, text):
        raise _fail(
            "role_name", value,
            _("is not a valid CAM role name (1-128 letters, digits or _+=,.@-); also {rule}", rule=dts_rule),
        )
    if not re.fullmatch(DTS_ACCOUNT_ROLE, text):
        raise _fail("role_name", value, _("is allowed by CAM but not by DTS ({rule})", rule=dts_rule))
    if text.lower().startswith(RESERVED_ROLE_PREFIX):
        raise _fail("role_name", value, _("starts with `{prefix}`, which is reserved for the roles the bot names "
                                          "after each request; leave role_name empty for one of those",
                                          prefix=RESERVED_ROLE_PREFIX))
    return text


def external_id(value: str) -> str | None:
    """The optional external ID of the role's trust policy; empty means none (the bot may generate one)."""
    text = value.strip()
    if not text:
        return None
    if not re.fullmatch(EXTERNAL_ID, text):
        raise _fail("external_id", value, _("is not a valid external ID; use 2-128 letters, digits or _+=,.@:/-"))
    return text


def executor(value: str, target: AccountRef | None = None) -> str:
    """Who runs the DTS task: `root` or the target account's configured sub-account UIN (whose keys we hold).

    The target's own root UIN also means `root`. Without a target only the form is checked.
    """
    text = value.strip()
    if not text or text.lower() == ROOT:
        return ROOT
    if target is not None and text == str(target.uin):
        return ROOT
    allowed = "root"
    if target is not None and target.executor_uin:
        allowed += _(" or {uin} (the configured sub-account of {account})", uin=target.executor_uin,
                     account=target.name)
    if not re.fullmatch(UIN_FORM, text):
        raise _fail("executor", value, _("is not root or a sub-account UIN (digits); allowed: {allowed}",
                                         allowed=allowed))
    if target is not None and text != str(target.executor_uin):
        raise _fail(
            "executor", value,
            _("is not a sub-account the bot holds keys for in {account}; allowed: {allowed}", account=target.name,
              allowed=allowed),
        )
    if target is not None and getattr(target, "executor_credentials", "keys") is None:
        raise _fail(  # refused now, not after the bot has set up access in the source account
            "executor", value,
            _("is {account}'s sub-account, but its keys are not configured (accounts[{account}].executor_credentials); "
              "allowed: root", account=target.name),
        )
    return text


# --- migrate type, objects ----------------------------------------------------------------------------------

_MIGRATE_KEYS = {"structure": "structure", "full": "full", "fullandincrement": db_kinds.FULL_AND_INCREMENT,
                 "fullincrement": db_kinds.FULL_AND_INCREMENT}


def migrate_type(value: str) -> str:
    """The DTS migrate type: structure, full or fullAndIncrement (default)."""
    key = re.sub(r"[\s_+-]+", "", value).lower()
    if not key:
        return db_kinds.FULL_AND_INCREMENT
    if key not in _MIGRATE_KEYS:
        raise _fail("migrate_type", value, _("is not a migrate type; allowed: {allowed}",
                                             allowed=", ".join(db_kinds.MIGRATE_TYPES)))
    return _MIGRATE_KEYS[key]


def objects(value: str) -> str:
    """What to migrate: `all`, or a comma list of `db` / `db.table`; returns `all` or a sorted comma list."""
    text = value.strip()
    if not text or text.lower() == "all":
        return "all"
    rule = _("use all, or a comma list of db or db.table (1-64 of letters, digits, _ and $ each, no quoting)")
    items = [item.strip() for item in text.split(",")]
    seen: set[str] = set()
    for item in items:
        if not item:
            raise _fail("objects", value, _("has an empty item; {rule}", rule=rule))
        if not re.fullmatch(rf"{IDENTIFIER}(\.{IDENTIFIER})?", item):
            raise _fail("objects", item, _("is not a db or db.table name; {rule}", rule=rule))
        if item in seen:
            raise _fail("objects", item, _("is listed twice"))
        seen.add(item)
    for item in items:
        db = item.split(".")[0]
        if "." in item and db in seen:
            raise _fail("objects", item, _("is already covered by `{db}`", db=shown(db)))
    return ",".join(sorted(items))


def write_mode(value: str, engine_name: str | None = None) -> str | None:
    """DTS's DstWriteMode for a Redis-family target (default normal); None for the engines that take none."""
    text = value.strip()
    engine = db_kinds.db_kind(engine_name) if engine_name else None
    allowed = "|".join(topology.WRITE_MODES)
    if engine is not None and not topology.takes_write_mode(engine):
        if text:
            raise _fail("write_mode", value, _("is for Redis and Tendis only (DTS's DstWriteMode); leave write_mode "
                                               "empty for {engine}", engine=engine.label))
        return None
    if not text:
        return topology.DEFAULT_WRITE_MODE if engine is not None else None
    spelt = {mode.lower(): mode for mode in topology.WRITE_MODES}.get(text.lower())
    if spelt is None:
        raise _fail("write_mode", value, _("is not a write mode; allowed: {allowed}", allowed=allowed))
    return spelt


def moment(field: str) -> Callable[[str], str | None]:
    """A validator of an ISO 8601 time with its zone (`2026-12-07T22:00+08:00`): normalised, None when empty."""
    def check(value: str) -> str | None:
        text = value.strip()
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise _fail(field, value, _("is not an ISO 8601 time, e.g. 2026-12-07T22:00+08:00")) from None
        if parsed.tzinfo is None:
            raise _fail(field, value, _("has no time zone; add one, e.g. +08:00 or Z")) from None
        return parsed.isoformat(timespec="minutes")
    return check


def read_only_target(value: str, engine_name: str | None = None) -> str | None:
    """`yes`: DTS keeps the target read-only while it migrates (MigrateOption.IsDstReadOnly, documented for MySQL
    only); None: not asked (DTS's default, writable)."""
    text = value.strip().lower()
    if text in ("", "no", "false"):
        return None
    if text not in ("yes", "true"):
        raise _fail("read_only_target", value, _("is yes or no"))
    engine = db_kinds.db_kind(engine_name) if engine_name else None
    if engine is not None and engine.database_type != "mysql":
        raise _fail("read_only_target", value, _("is for MySQL only (DTS's IsDstReadOnly); leave it empty for "
                                                 "{engine}", engine=engine.label))
    return "yes"


# --- the whole request --------------------------------------------------------------------------------------

def _by_name(accounts: Sequence[AccountRef], name: str | None) -> AccountRef | None:
    return next((a for a in accounts if a.name == name), None)


def validate_request(
    fields: Mapping[str, str | None], accounts: Sequence[AccountRef], experimental: Collection[str] = ()
) -> tuple[dict[str, str | None] | None, dict[str, str]]:
    """Normalize a request: (fields with defaults, {}) when valid, else (None, every error by field name).

    None counts as empty (Slack sends it for a blank modal input); `experimental`: dts.experimental_engines.
    """
    fields = {name: value or "" for name, value in fields.items()}
    errors: dict[str, str] = {}
    out: dict[str, str | None] = {}

    for name in fields:
        if name not in FIELDS:
            errors[shown(name)] = _("{field}: unknown field; allowed: {allowed}", field=named(name),
                                    allowed=", ".join(FIELDS))
    for name in REQUIRED:
        if not (fields.get(name) or "").strip():
            errors[name] = _("{field}: required, {hint}", field=name,
                             hint=_(_REQUIRED_HINTS[name], engines=engines(experimental)))

    def run(field: str, fn: Callable[..., Any], *args: Any) -> None:
        if field in errors:  # already reported as missing
            return
        try:
            out[field] = fn(fields.get(field, ""), *args)
        except FieldError as e:
            errors[field] = e.message

    run("db_type", db_type, experimental)
    engine_name = out.get("db_type")
    run("source_account", source_account, accounts)
    run("target_account", target_account, accounts)
    run("source_region", source_region)
    run("target_region", target_region)
    run("source_instance", source_instance, engine_name)
    run("target_instance", target_instance, engine_name)
    run("role_name", role_name)
    run("external_id", external_id)
    run("executor", executor, _by_name(accounts, out.get("target_account")))
    run("migrate_type", migrate_type)
    run("objects", objects)
    if "db_type" in out:  # the write mode depends on the engine: unchecked while the engine is wrong
        run("write_mode", write_mode, engine_name)
        run("read_only_target", read_only_target, engine_name)
    run("start_at", moment("start_at"))
    run("cutover_at", moment("cutover_at"))
    if out.get("start_at") and out.get("cutover_at") and \
            datetime.fromisoformat(str(out["cutover_at"])) <= datetime.fromisoformat(str(out["start_at"])):
        errors["cutover_at"] = _("cutover_at: must come after start_at ({start})", start=out["start_at"])

    if "source_account" in out and out.get("source_account") == out.get("target_account"):
        errors["target_account"] = (
            _("target_account: must differ from source_account ({account}); a cross-account migration needs two "
              "accounts", account=out["source_account"])
        )
    if engine_name is not None:
        eng = db_kinds.db_kind(engine_name)
        if out.get("migrate_type") and out["migrate_type"] not in eng.migrate_types:
            errors["migrate_type"] = (
                _("migrate_type: {engine} supports only {allowed}", engine=eng.label,
                  allowed=", ".join(eng.migrate_types))
            )
        if eng.migrate_types == (db_kinds.FULL_AND_INCREMENT,) and out.get("objects", "all") != "all":
            errors["objects"] = _("objects: {engine} migrates the whole instance; use all", engine=eng.label)
    return (None, errors) if errors else (out, {})


# --- inline text --------------------------------------------------------------------------------------------

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


def parse_inline(text: str) -> tuple[dict[str, str], list[str]]:
    """Read `key=value key2="value with spaces"` into fields, with a message per token that cannot be read."""
    if len(text) > MAX_INLINE:
        return {}, [_("the fields are too long ({length} characters; at most {limit})", length=len(text),
                      limit=MAX_INLINE)]
    try:
        tokens = shlex.split(text.translate(_SMART_QUOTES))
    except ValueError as e:
        return {}, [_("could not read the fields ({error}); quote values with spaces like key=\"a b\"", error=e)]
    fields: dict[str, str] = {}
    errors: list[str] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            errors.append(_("`{token}`: expected key=value, e.g. source_region=ap-guangzhou", token=shown(token)))
        elif key in fields:
            errors.append(_("{field}: given more than once", field=named(key)))
        else:
            fields[key] = value
    return fields, errors
