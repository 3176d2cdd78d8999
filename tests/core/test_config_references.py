"""app.yaml's references and the mistakes that must not load: `${NAME}` (environment, `NAME_FILE`, default),
empty variables, duplicate keys, account names that read as UINs, unquoted UINs, files that are not app.yaml."""

from pathlib import Path

import pytest
import yaml

from core.config import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]


def minimal(**slack) -> dict:
    return {
        "slack": {"bot_token": "${SLACK_BOT_TOKEN:-xoxb-sandbox-bot-token}",
                  "signing_secret": "${SLACK_SIGNING_SECRET:-sandbox-signing-secret}",
                  "app_token": "${SLACK_APP_TOKEN:-}", "channel": "C0DTSBOT01", **slack},
        "accounts": [
            {"name": "src", "uin": "100000000001", "approvers": ["U0SRCOWNER"]},
            {"name": "dst", "uin": "100000000002", "approvers": ["U0TGTOWNER"]},
        ],
    }


def problems(data: dict, environ: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, environ)
    return caught.value.problems


def test_a_variable_set_but_empty_is_an_error_naming_it_and_the_key_not_the_sandbox_default():
    assert problems(minimal(), {"SLACK_SIGNING_SECRET": ""}) == [
        ("slack.signing_secret: ${SLACK_SIGNING_SECRET} is set but empty; give it a value, or unset it to use "
        "the default")]
    # the shipped app.yaml too: an empty variable never becomes the published sandbox value
    with pytest.raises(ConfigError, match=r"slack\.signing_secret: \$\{SLACK_SIGNING_SECRET\} is set but empty"):
        load_settings(ROOT / "app.yaml", environ={"SLACK_SIGNING_SECRET": ""})


def test_an_empty_default_marks_an_optional_key_that_may_be_empty():
    settings = parse_settings(minimal(), {"SLACK_APP_TOKEN": ""})
    assert settings.slack.app_token is None  # HTTP mode, as before


def test_a_variable_can_come_from_its_file_with_the_trailing_newline_removed(tmp_path):
    secret = tmp_path / "signing_secret"
    secret.write_text("from-a-file\n")
    settings = parse_settings(minimal(), {"SLACK_SIGNING_SECRET_FILE": str(secret)})
    assert settings.slack.signing_secret.get_secret_value() == "from-a-file"
    with pytest.raises(ConfigError) as both:  # a stale variable must not hide a rotated file
        parse_settings(minimal(), {"SLACK_SIGNING_SECRET": "from-env", "SLACK_SIGNING_SECRET_FILE": str(secret)})
    assert both.value.problems == [("slack.signing_secret: both SLACK_SIGNING_SECRET and SLACK_SIGNING_SECRET_FILE "
                                    "are set; unset one (a stale variable would hide the file)")]


def test_a_file_that_cannot_be_read_or_is_empty_is_named(tmp_path):
    missing = tmp_path / "nope"
    assert problems(minimal(), {"SLACK_BOT_TOKEN_FILE": str(missing)}) == [
        f"slack.bot_token: SLACK_BOT_TOKEN_FILE={missing} cannot be read (No such file or directory)"]
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert problems(minimal(), {"SLACK_BOT_TOKEN_FILE": str(empty)}) == [
        f"slack.bot_token: ${{SLACK_BOT_TOKEN}}: the file SLACK_BOT_TOKEN_FILE={empty} is empty"]


def test_plain_safe_load_keeps_the_last_of_two_keys_silently():
    """The hazard: a second `approvers:` replaces the reviewed one without a word."""
    assert yaml.safe_load("approvers: [U0REVIEWED]\napprovers: [U0SNEAKY]\n") == {"approvers": ["U0SNEAKY"]}


def test_a_duplicate_key_anywhere_is_an_error_naming_the_key_and_both_lines(tmp_path):
    text = (ROOT / "app.yaml").read_text()
    doubled = text.replace("    approvers: [U0SRCOWNER]", "    approvers: [U0SRCOWNER]\n    approvers: [U0SNEAKY]")
    path = tmp_path / "app.yaml"
    path.write_text(doubled)
    first = doubled.splitlines().index("    approvers: [U0SRCOWNER]") + 1
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [f"accounts[0].approvers: duplicate key (lines {first} and {first + 1}); keep one"]
    path.write_text("slack:\n  channel: C1\nstorage: {}\nslack:\n  channel: C2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == ["slack: duplicate key (lines 1 and 4); keep one"]


def test_an_account_name_of_digits_is_refused_so_it_never_stands_for_another_accounts_uin():
    data = minimal()
    data["accounts"] = [{"name": "shop", "uin": "200000000002", "approvers": ["U0SRCOWNER"]},
                        {"name": "200000000002", "uin": "100000000001", "approvers": ["U0TGTOWNER"]}]
    found = problems(data, {})
    assert len(found) == 1 and found[0].startswith("accounts[1].name: '200000000002' is all digits")


def test_an_unquoted_uin_says_to_quote_it(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text((ROOT / "app.yaml").read_text().replace('uin: "100000000002"', "uin: 100000000002"))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [('accounts[1].uin: must be a quoted string: write uin: "100000000002" (YAML '
                                     'reads unquoted digits as a number)')]


def test_a_directory_or_a_file_that_is_not_utf8_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.problems == [f"{tmp_path}: is a directory; give the path of app.yaml"]
    latin1 = tmp_path / "app.yaml"
    latin1.write_bytes("slack:\n  channel: C0DTSBOT01 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_settings(latin1)
    assert caught.value.problems == [f"{latin1}: not UTF-8 text (byte 0xe9 at offset 34); save it as UTF-8"]


def test_a_byte_order_mark_a_windows_editor_put_in_a_secret_file_is_not_part_of_the_secret(tmp_path):
    """Notepad saves UTF-8 with a BOM: as part of the token it broke `serve` with a traceback (an HTTP header
    cannot hold it) and made `check` blame the network."""
    token = tmp_path / "slack_bot_token"
    token.write_bytes(b"\xef\xbb\xbfxoxb-from-notepad\r\n")
    settings = parse_settings(minimal(), {"SLACK_BOT_TOKEN_FILE": str(token)})
    assert settings.slack.bot_token.get_secret_value() == "xoxb-from-notepad"


@pytest.mark.parametrize(("variable", "key"), [
    ("SLACK_SIGNING_SECRET", "slack.signing_secret"), ("SLACK_BOT_TOKEN", "slack.bot_token"),
    ("SLACK_APP_TOKEN", "slack.app_token"), ("SOURCE_SECRET_KEY", "accounts[0].credentials.secret_key")])
def test_a_token_or_key_with_whitespace_in_it_is_an_error_naming_the_key_never_the_value(variable, key):
    """A Kubernetes secret made from a file with a trailing newline, given as a variable: the signing secret
    then refused every Slack request (401) while `check` said ready."""
    data = minimal()
    data["accounts"][0]["credentials"] = {"secret_id": "${SOURCE_SECRET_ID:-AKIDexample}",
                                          "secret_key": "${SOURCE_SECRET_KEY:-example-key}"}
    value = "xapp-1-A0-token\n" if variable == "SLACK_APP_TOKEN" else "s3cr3t-value\n"
    found = problems(data, {variable: value})
    assert len(found) == 1 and found[0].startswith(f"{key}: contains whitespace"), found
    assert "s3cr3t" not in found[0] and "A0-token" not in found[0]


def test_a_mistyped_region_in_app_yaml_is_refused_as_a_requests_region_is():
    """`tencentcloud.region: ap-guangzou` loaded and `check` said ready (the sandbox answers any region), while the
    same typo in a request is refused with "did you mean". CAM, STS and Secrets Manager are called there."""
    data = minimal()
    data["tencentcloud"] = {"region": "ap-guangzou"}
    data["secrets_manager"] = {"region": "ap-shangai"}
    found = problems(data, {})
    assert found == ["tencentcloud.region: 'ap-guangzou' is not a known region; did you mean ap-guangzhou?",
                     "secrets_manager.region: 'ap-shangai' is not a known region; did you mean ap-shanghai?"]
