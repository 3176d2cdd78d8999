"""Request validation: every field's accept/reject table, property tests for each rule, hostile input."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import db_kinds
from core import validation as v
from core.validation import FieldError


@dataclass(frozen=True)
class Account:
    name: str
    uin: str
    executor_uin: str | None = None


SHOP = Account("shop-prod", "100000000001")
ANALYTICS = Account("analytics", "100000000002", executor_uin="100000000021")
FINANCE = Account("finance", "100000000003")
ACCOUNTS = (SHOP, ANALYTICS, FINANCE)

GOOD = {
    "source_account": "shop-prod",
    "source_region": "ap-guangzhou",
    "source_instance": "cdb-src00001",
    "target_account": "analytics",
    "target_region": "ap-guangzhou",
    "target_instance": "cdb-dst00001",
    "db_type": "mysql",
}

ENGINE_PREFIX = [(e.name, p) for e in db_kinds.DB_KINDS for p in e.instance_prefixes]


def _field_error(field: str, fn, *args) -> FieldError:
    with pytest.raises(FieldError) as info:
        fn(*args)
    assert info.value.field == field
    assert info.value.message.startswith(f"{field}: ")
    assert str(info.value) == info.value.message
    return info.value


# --- database kinds table ------------------------------------------------------------------------------------------

def test_engine_table_matches_the_shared_instance_ids():
    ids = {"mysql": "cdb-src00001", "mariadb": "tdsql-src00001", "percona": "cdb-src00002",
           "postgresql": "postgres-src00001", "mongodb": "cmgo-src00001", "sqlserver": "mssql-src00001",
           "redis": "crs-src00001", "tendis": "tendis-src00001"}
    assert set(ids) == set(db_kinds.DB_KIND_NAMES)
    for name, instance in ids.items():
        assert v.source_instance(instance, name) == instance


def test_only_redis_and_tendis_need_allowlisting_and_get_a_note():
    assert [n for n in db_kinds.DB_KIND_NAMES if db_kinds.needs_allowlisting(n)] == ["redis", "tendis"]
    assert "ticket" in db_kinds.allowlisting_note("Redis")
    assert db_kinds.allowlisting_note("mysql") is None
    assert db_kinds.db_kind("sqlserver").read_only_policy == "QcloudSQLServerReadOnlyAccess"
    with pytest.raises(KeyError):
        db_kinds.db_kind("oracle")


# --- accounts -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, name", [
    ("shop-prod", "shop-prod"), ("  Shop-Prod ", "shop-prod"), ("100000000001", "shop-prod"),
    ("analytics", "analytics"), ("100000000003", "finance"),
])
def test_account_accepts_name_or_root_uin(value, name):
    assert v.source_account(value, ACCOUNTS) == name
    assert v.target_account(value, ACCOUNTS) == name


@pytest.mark.parametrize("value, says", [
    ("", "required"), ("nobody", "not a configured account"), ("100000000009", "not a configured account"),
    ("10000000000x", "digits only"), ("100000000011", "not a configured account"),
])
def test_account_rejects(value, says):
    err = _field_error("source_account", v.source_account, value, ACCOUNTS)
    assert says in err.message
    assert "shop-prod (100000000001)" in err.message


@given(st.from_regex(r"[0-9]{1,20}", fullmatch=True))
def test_unconfigured_uins_are_rejected(uin):
    if uin in {a.uin for a in ACCOUNTS}:
        assert v.target_account(uin, ACCOUNTS) in {a.name for a in ACCOUNTS}
    else:
        _field_error("target_account", v.target_account, uin, ACCOUNTS)


# --- regions ------------------------------------------------------------------------------------------------

@given(st.sampled_from(v.REGIONS), st.booleans())
def test_known_regions_accepted_in_any_case(region, upper):
    assert v.source_region(f" {region.upper() if upper else region} ") == region


@given(st.from_regex(v.REGION_FORM, fullmatch=True))
def test_well_formed_unknown_regions_rejected_with_the_list(region):
    if region in v.REGIONS:
        assert v.target_region(region) == region
    else:
        err = _field_error("target_region", v.target_region, region)
        assert "ap-guangzhou" in err.message


@pytest.mark.parametrize("value, says", [
    ("ap-guangzou", "did you mean ap-guangzhou?"), ("guangzhou", "form ap-guangzhou"),
    ("ap_guangzhou", "form ap-guangzhou"), ("ap-guangzhou-", "form"), ("", "form"),
    ("ap-guangzhou-open-x", "form"),
])
def test_region_rejects(value, says):
    assert says in _field_error("source_region", v.source_region, value).message


# --- db_type, instances -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, name", [
    ("mysql", "mysql"), ("MySQL", "mysql"), ("MariaDB", "mariadb"), ("percona", "percona"),
    ("postgresql", "postgresql"), ("postgres", "postgresql"), ("PG", "postgresql"), ("mongo", "mongodb"),
    ("MongoDB", "mongodb"), ("SQL Server", "sqlserver"), ("sql_server", "sqlserver"), ("mssql", "sqlserver"),
    ("redis", "redis"), ("Tendis", "tendis"),
])
def test_db_type_accepts_names_labels_aliases(value, name):
    assert v.db_type(value, db_kinds.EXPERIMENTAL_ENGINES) == name


@pytest.mark.parametrize("value", ["", "oracle", "my sql x", "cdb", "<!channel>"])
def test_db_type_rejects_with_the_list(value):
    assert ("allowed: mysql, postgresql, mongodb, sqlserver, redis, tendis"
            in _field_error("db_type", v.db_type, value).message)


@pytest.mark.parametrize("value", ["mariadb", "Percona"])
def test_engines_outside_the_guide_are_refused_naming_the_supported_ones(value):
    message = _field_error("db_type", v.db_type, value).message
    assert "not covered by Tencent's cross-account guide" in message
    assert "supported: mysql, postgresql, mongodb, sqlserver, redis, tendis" in message
    assert "dts.experimental_engines" in message


def test_an_experimental_engine_is_accepted_only_when_listed():
    assert v.db_type("MariaDB", ["mariadb"]) == "mariadb"
    assert "not covered" in _field_error("db_type", v.db_type, "percona", ["mariadb"]).message
    assert "allowed: mysql, mariadb, postgresql" in _field_error("db_type", v.db_type, "oracle", ["mariadb"]).message


@given(st.sampled_from(ENGINE_PREFIX), st.from_regex(v.INSTANCE_SUFFIX, fullmatch=True))
def test_instance_with_the_engine_prefix_accepted(engine_prefix, suffix):
    engine, prefix = engine_prefix
    assert v.target_instance((prefix + suffix).upper(), engine) == prefix + suffix
    assert v.target_instance(prefix + suffix) == prefix + suffix


@given(st.sampled_from(db_kinds.DB_KIND_NAMES), st.text(max_size=30))
def test_instance_not_matching_the_engine_rejected(engine, value):
    prefixes = db_kinds.db_kind(engine).instance_prefixes
    if any(re.fullmatch(re.escape(p) + "[a-z0-9]{8}", value.strip().lower()) for p in prefixes):
        return
    err = _field_error("source_instance", v.source_instance, value, engine)
    assert "followed by 8 lowercase letters or digits" in err.message


def test_instance_message_names_the_engine_and_an_example():
    err = _field_error("source_instance", v.source_instance, "cdb-xyz", "mysql")
    assert err.message == (
        "source_instance: `cdb-xyz` is not a MySQL instance ID; expected cdb- followed by 8 lowercase "
        "letters or digits, e.g. cdb-ab12cd34"
    )
    assert "tendis- or crs-" in _field_error("source_instance", v.source_instance, "cdb-ab12cd34", "tendis").message
    for bad in ["cmgo-src00001", "cdb-src0000", "cdb-src000011", "cdb-src0000_", "cdb–src00001"]:
        _field_error("source_instance", v.source_instance, bad, "mysql")


# --- role name, external ID ---------------------------------------------------------------------------------

def test_role_name_defaults_and_table():
    assert v.role_name("") is v.role_name("  ") is None  # the request gets its own role, named after its id
    assert v.role_name("my_role-2") == "my_role-2"
    assert v.role_name("x" * 128) == "x" * 128
    err = _field_error("role_name", v.role_name, "DTS.role")
    assert err.message == (
        "role_name: `DTS.role` is allowed by CAM but not by DTS (DTS allows letters, digits, - and _ only)"
    )
    for bad in ["x" * 129, "DTS role", "rôle", "a/b"]:
        assert "not a valid CAM role name" in _field_error("role_name", v.role_name, bad).message


@given(st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True))
def test_dts_role_names_accepted(name):
    assert v.role_name(name) == name


@given(st.from_regex(v.CAM_ROLE_NAME, fullmatch=True).filter(lambda s: re.search(r"[+=,.@]", s)))
def test_cam_only_role_names_rejected_as_dts(name):
    assert "allowed by CAM but not by DTS" in _field_error("role_name", v.role_name, name).message


@given(st.text(max_size=200))
def test_role_name_never_accepts_outside_both_rules(name):
    try:
        result = v.role_name(name)
    except FieldError as e:
        assert e.message.startswith("role_name: ")
    else:
        assert result is None if not name.strip() else re.fullmatch(r"[A-Za-z0-9_-]{1,128}", result)


def test_external_id_table():
    assert v.external_id("") is None
    assert v.external_id(" ext:id/1@a.b=c+d,e-f_ ") == "ext:id/1@a.b=c+d,e-f_"
    for bad in ["a", "x" * 129, "has space", "ümlaut", "a;b"]:
        _field_error("external_id", v.external_id, bad)


@given(st.from_regex(v.EXTERNAL_ID, fullmatch=True))
def test_external_ids_accepted(value):
    assert v.external_id(value) == value


@given(st.text(min_size=1, max_size=200))
def test_external_id_rejects_outside_the_rule(value):
    if re.fullmatch(v.EXTERNAL_ID, value.strip()) or not value.strip():
        return
    _field_error("external_id", v.external_id, value)


# --- executor -----------------------------------------------------------------------------------------------

def test_executor_table():
    assert v.executor("") == v.executor("ROOT") == "root"
    assert v.executor("100000000002", ANALYTICS) == "root"
    assert v.executor(" 100000000021 ", ANALYTICS) == "100000000021"
    err = _field_error("executor", v.executor, "100000000011", ANALYTICS)
    assert "allowed: root or 100000000021" in err.message
    assert "allowed: root" in _field_error("executor", v.executor, "100000000021", FINANCE).message
    assert "digits" in _field_error("executor", v.executor, "alice", ANALYTICS).message


@given(st.from_regex(r"[0-9]{1,20}", fullmatch=True))
def test_executor_accepts_only_the_configured_sub_account(uin):
    if uin in {ANALYTICS.uin, ANALYTICS.executor_uin}:
        return
    _field_error("executor", v.executor, uin, ANALYTICS)


# --- migrate type, objects ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, result", [
    ("", "fullAndIncrement"), ("structure", "structure"), ("FULL", "full"), ("fullAndIncrement", "fullAndIncrement"),
    ("full+increment", "fullAndIncrement"), ("full_and_increment", "fullAndIncrement"),
    ("Full And Increment", "fullAndIncrement"),
])
def test_migrate_type_accepts(value, result):
    assert v.migrate_type(value) == result


@pytest.mark.parametrize("value", ["incremental", "increment", "all", "structure,full"])
def test_migrate_type_rejects(value):
    assert "allowed: structure, full, fullAndIncrement" in _field_error("migrate_type", v.migrate_type, value).message


@pytest.mark.parametrize("value, result", [
    ("", "all"), ("ALL", "all"), ("shop", "shop"), ("shop.orders, crm", "crm,shop.orders"),
    ("a$b.c_1,z", "a$b.c_1,z"), ("all,shop", "all,shop"), ("d" * 64 + "." + "t" * 64, "d" * 64 + "." + "t" * 64),
])
def test_objects_accepts(value, result):
    assert v.objects(value) == result


@pytest.mark.parametrize("value, says", [
    ("shop,,crm", "empty item"), ("shop,", "empty item"), ("shop,shop", "listed twice"),
    ("shop,shop.orders", "already covered by `shop`"), ("`shop`", "not a db or db.table"),
    ("a.b.c", "not a db or db.table"), ("d" * 65, "not a db or db.table"),
    ("shop orders", "not a db or db.table"),
])
def test_objects_rejects(value, says):
    assert says in _field_error("objects", v.objects, value).message


_ident = st.from_regex(v.IDENTIFIER, fullmatch=True)


@given(st.lists(st.tuples(_ident, st.none() | _ident), min_size=1, max_size=6, unique_by=lambda t: t[0]))
def test_generated_object_lists_normalize_sorted(pairs):
    items = [db if table is None else f"{db}.{table}" for db, table in pairs]
    text = " , ".join(items)
    if text.lower() == "all":
        return
    assert v.objects(text) == ",".join(sorted(items))


# --- the whole request --------------------------------------------------------------------------------------

def test_valid_request_gets_defaults():
    out, errors = v.validate_request(GOOD, ACCOUNTS)
    assert errors == {}
    assert out == {**GOOD, "role_name": None, "external_id": None, "executor": "root",
                   "migrate_type": "fullAndIncrement", "objects": "all", "write_mode": None,
                   "read_only_target": None, "start_at": None, "cutover_at": None}


@pytest.mark.parametrize(("fields", "error"), [
    ({"cutover_at": "2026-12-07 22:00"}, "has no time zone"),
    ({"start_at": "tonight"}, "is not an ISO 8601 time"),
    ({"start_at": "2026-12-07T22:00+08:00", "cutover_at": "2026-12-07T21:00+08:00"}, "must come after start_at"),
    ({"read_only_target": "maybe"}, "is yes or no"),
])
def test_the_cutover_fields_are_checked(fields, error):
    _out, errors = v.validate_request({**GOOD, **fields}, ACCOUNTS)
    assert error in " ".join(errors.values())


def test_the_cutover_fields_are_normalised():
    out, errors = v.validate_request({**GOOD, "cutover_at": "2026-12-07T22:00:30Z", "read_only_target": "YES"},
                                     ACCOUNTS)
    assert errors == {} and out["cutover_at"] == "2026-12-07T22:00+00:00" and out["read_only_target"] == "yes"


def test_valid_request_normalizes_every_field():
    fields = {"source_account": "100000000001", "source_region": "AP-Guangzhou",
              "source_instance": "MSSQL-SRC00001", "target_account": "Analytics", "target_region": "ap-shanghai",
              "target_instance": "mssql-dst00001", "db_type": "SQL Server", "role_name": "dts_x",
              "external_id": "ext-123", "executor": "100000000021", "migrate_type": "full", "objects": "b,a.t"}
    out, errors = v.validate_request(fields, ACCOUNTS)
    assert errors == {}
    assert out["source_account"] == "shop-prod" and out["target_account"] == "analytics"
    assert out["db_type"] == "sqlserver" and out["source_instance"] == "mssql-src00001"
    assert (out["executor"], out["migrate_type"], out["objects"]) == ("100000000021", "full", "a.t,b")


def test_every_bad_field_reported_at_once():
    fields = {"source_account": "shop-prod", "target_account": "100000000001", "source_region": "mars",
              "source_instance": "cmgo-src00001", "target_instance": "cdb-dst00001", "db_type": "mysql",
              "role_name": "DTS.role", "external_id": "x", "executor": "100000000021", "colour": "blue"}
    out, errors = v.validate_request(fields, ACCOUNTS)
    assert out is None
    assert set(errors) == {"target_account", "source_region", "target_region", "source_instance", "role_name",
                           "external_id", "executor", "colour"}
    assert errors["colour"].startswith("colour: unknown field; allowed: source_account, ")
    assert "must differ from source_account" in errors["target_account"]
    assert errors["target_region"].startswith("target_region: required")
    for field, message in errors.items():
        assert message.startswith(f"{field}: ")


def test_missing_required_fields_reported():
    out, errors = v.validate_request({}, ACCOUNTS)
    assert out is None and set(errors) == set(v.REQUIRED)
    assert errors["db_type"] == "db_type: required, one of " + ", ".join(db_kinds.GUIDE_ENGINES)


def test_blank_modal_inputs_arrive_as_none():
    out, errors = v.validate_request({**GOOD, "role_name": None, "external_id": None}, ACCOUNTS)
    assert errors == {} and out["role_name"] is None and out["external_id"] is None
    _, errors = v.validate_request({**GOOD, "db_type": None}, ACCOUNTS)
    assert set(errors) == {"db_type"}


@pytest.mark.parametrize("engine, instance", [("redis", "crs-src00001"), ("tendis", "tendis-src00001")])
def test_redis_and_tendis_only_full_and_increment_of_everything(engine, instance):
    base = {**GOOD, "db_type": engine, "source_instance": instance, "target_instance": instance}
    out, errors = v.validate_request(base, ACCOUNTS)
    assert errors == {} and out["migrate_type"] == "fullAndIncrement"
    _, errors = v.validate_request({**base, "migrate_type": "full", "objects": "db0"}, ACCOUNTS)
    assert errors["migrate_type"].startswith("migrate_type: ") and "only fullAndIncrement" in errors["migrate_type"]
    assert errors["objects"] == f"objects: {db_kinds.db_kind(engine).label} migrates the whole instance; use all"


def test_engine_checks_instances_and_executor_checks_target():
    _, errors = v.validate_request({**GOOD, "db_type": "postgresql", "executor": "100000000021",
                                    "target_account": "finance"}, ACCOUNTS)
    assert set(errors) == {"source_instance", "target_instance", "executor"}
    assert "PostgreSQL instance ID" in errors["source_instance"]


# --- inline text --------------------------------------------------------------------------------------------

def test_parse_inline_reads_quoted_values_and_reports_bad_tokens():
    fields, errors = v.parse_inline('source_account=shop-prod objects="a, b" Role_Name=“x y” lonely =v '
                                    "source_account=again")
    assert fields == {"source_account": "shop-prod", "objects": "a, b", "role_name": "x y"}
    assert errors == ["`lonely`: expected key=value, e.g. source_region=ap-guangzhou",
                      "`=v`: expected key=value, e.g. source_region=ap-guangzhou",
                      "source_account: given more than once"]


def test_parse_inline_refuses_huge_text_quickly():
    fields, errors = v.parse_inline("a=" + "x" * 1_000_000)
    assert fields == {} and errors == ["the fields are too long (1000002 characters; at most 4000)"]


def test_parse_inline_unclosed_quote_and_empty():
    assert v.parse_inline("") == ({}, [])
    fields, errors = v.parse_inline('objects="a, b')
    assert fields == {} and len(errors) == 1 and "quote" in errors[0]


def test_inline_round_trip_to_a_valid_request():
    text = " ".join(f"{k}={val}" for k, val in GOOD.items()) + ' objects="shop.orders, crm"'
    fields, errors = v.parse_inline(text)
    assert errors == []
    out, errors = v.validate_request(fields, ACCOUNTS)
    assert errors == {} and out["objects"] == "crm,shop.orders"


# --- hostile input ------------------------------------------------------------------------------------------

HOSTILE = ["<!channel>", "a\nb\r\nc", "x" * 100_000, "\x00\x1b[31m", "😀" * 50, "`rm -rf`", "İstanbul", "cdb-\u0665" * 3]

FIELD_FUNCS = {
    "source_account": lambda s: v.source_account(s, ACCOUNTS), "target_account": lambda s: v.target_account(s, ACCOUNTS),
    "source_region": v.source_region, "target_region": v.target_region, "db_type": v.db_type,
    "source_instance": lambda s: v.source_instance(s, "mysql"), "target_instance": v.target_instance,
    "role_name": v.role_name, "external_id": v.external_id, "executor": lambda s: v.executor(s, ANALYTICS),
    "migrate_type": v.migrate_type, "objects": v.objects,
}


def _only_field_errors(field: str, value: str) -> None:
    try:
        FIELD_FUNCS[field](value)
    except FieldError as e:
        assert e.field == field and e.message.startswith(f"{field}: ")
        assert "\n" not in e.message and "\x00" not in e.message
        assert len(e.message) < 600
        if len(value) > v.MAX_ECHO:
            assert value[: v.MAX_ECHO + 1] not in e.message


@pytest.mark.parametrize("field", sorted(FIELD_FUNCS))
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_give_field_errors(field, value):
    _only_field_errors(field, value)


@settings(max_examples=300)
@given(st.sampled_from(sorted(FIELD_FUNCS)), st.text(max_size=300))
def test_any_text_is_accepted_or_a_field_error(field, value):
    _only_field_errors(field, value)


def test_echo_is_truncated_and_made_printable():
    assert v.shown("x" * 100) == "x" * 60 + "…"
    assert v.shown("a\nb`c") == "a?b?c"
    out, errors = v.validate_request({"<!channel>" * 20: "x", **GOOD, "db_type": "\n" * 10_000}, ACCOUNTS)
    assert out is None and len(errors) == 2
    assert all(len(m) < 400 for m in errors.values())


@given(st.text(max_size=500))
def test_parse_inline_never_raises(text):
    fields, errors = v.parse_inline(text)
    assert all(isinstance(k, str) and isinstance(val, str) for k, val in fields.items())
    assert all(isinstance(e, str) for e in errors)


@pytest.mark.parametrize(("text", "clean"), [
    ("\u202eevil\u202c", "evil"),                      # right-to-left override and pop
    ("a\u2066b\u2069c\u200fd\u061ce", "abcde"),        # isolates, RLM, Arabic letter mark
    ("zero\u200bwidth\ufeff", "zerowidth"),            # zero-width space, BOM
    ("bell\x07 esc\x1b[31m", "bell esc[31m"),          # C0 controls
    ("line\u2028two\ttab\nthree", "line\ntwo\ttab\nthree"),
    ("中文 🙂 émoji", "中文 🙂 émoji"),                  # visible text stays as it is
])
def test_free_text_drops_bidi_and_invisible_characters(text, clean):
    assert v.free_text(text) == clean


@given(st.text())
@settings(max_examples=300)
def test_free_text_leaves_nothing_invisible_but_newlines_and_tabs(text):
    assert all(c.isprintable() or c in "\n\t" for c in v.free_text(text))


def test_the_bots_own_role_names_are_reserved():
    with pytest.raises(FieldError) as refused:
        v.role_name("dtsbot-mr-abcdef")
    assert "role_name" in str(refused.value) and "reserved" in str(refused.value)


def test_a_sub_account_whose_keys_are_not_configured_is_refused_when_the_request_is_made():
    from types import SimpleNamespace

    keyless = SimpleNamespace(name="analytics", uin="100000000002", executor_uin="100000000021",
                              executor_credentials=None)
    with pytest.raises(FieldError) as refused:
        v.executor("100000000021", keyless)
    assert str(refused.value).startswith("executor") and "executor_credentials" in str(refused.value)
    assert v.executor("root", keyless) == "root"
    keyed = SimpleNamespace(**{**vars(keyless), "executor_credentials": object()})
    assert v.executor("100000000021", keyed) == "100000000021"


# --- write_mode (Redis' DstWriteMode) -----------------------------------------------------------------------

REDIS = {**GOOD, "db_type": "redis", "source_instance": "crs-src00001", "target_instance": "crs-dst00001"}


@pytest.mark.parametrize("engine, instance", [("redis", "crs-src00001"), ("tendis", "tendis-src00001")])
def test_a_redis_family_request_defaults_to_the_normal_write_mode(engine, instance):
    out, errors = v.validate_request({**REDIS, "db_type": engine, "source_instance": instance,
                                      "target_instance": instance}, ACCOUNTS)
    assert errors == {} and out["write_mode"] == "normal"


@pytest.mark.parametrize("value, spelt", [("clearData", "clearData"), ("CLEARDATA", "clearData"),
                                          ("overwrite", "overwrite"), ("Normal", "normal")])
def test_write_mode_takes_the_documented_values_in_their_documented_spelling(value, spelt):
    out, errors = v.validate_request({**REDIS, "write_mode": value}, ACCOUNTS)
    assert errors == {} and out["write_mode"] == spelt


@pytest.mark.parametrize("value", ["clear", "append", "over write", "<!here>"])
def test_an_undocumented_write_mode_is_refused_naming_the_allowed_ones(value):
    _, errors = v.validate_request({**REDIS, "write_mode": value}, ACCOUNTS)
    assert errors["write_mode"].startswith("write_mode: `") and "allowed: clearData|overwrite|normal" in errors["write_mode"]


def test_write_mode_is_refused_for_the_other_engines_naming_the_field():
    _, errors = v.validate_request({**GOOD, "write_mode": "overwrite"}, ACCOUNTS)
    assert set(errors) == {"write_mode"}
    assert errors["write_mode"].startswith("write_mode: `overwrite` is for Redis and Tendis only")
    out, errors = v.validate_request({**GOOD, "write_mode": ""}, ACCOUNTS)
    assert errors == {} and out["write_mode"] is None
