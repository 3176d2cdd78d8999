"""Block Kit builders: valid for Slack (the emulator's validator), within limits, user text escaped."""

from __future__ import annotations

from bot import blocks, modals
from core.plan import plan_for
from sandbox.slack.blockkit import message_errors, view_errors
from storage.models import MigrationRequest
from tests.support.workspace import bot_settings

SETTINGS = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db")


def request(**changes) -> MigrationRequest:
    fields = {
        "id": "mr-blocks", "requester": "U0REQUESTER", "source_account": "shop-prod",
        "source_uin": "100000000001", "source_region": "ap-guangzhou", "source_instance": "cdb-src00001",
        "target_account": "analytics", "target_uin": "100000000002", "target_region": "ap-guangzhou",
        "target_instance": "cdb-dst00001", "db_type": "mysql", "role_name": "DTS-role",
        "external_id": "dtsbot-secretsecretsecret", "executor": "100000000021",
        "migrate_type": "fullAndIncrement", "objects": "all", "facts": {},
    }
    return MigrationRequest(**{**fields, **changes})


def message(r: MigrationRequest) -> dict:
    return blocks.request_message(r, plan_for(r, SETTINGS), {"source": "U0SRCOWNER"}, SETTINGS)


def test_the_request_message_is_valid_and_stays_within_limits() -> None:
    huge = ",".join(f"db{i:04d}.table_with_a_long_name_{i:04d}" for i in range(120))
    built = message(request(objects=huge, last_error="x" * 5000, state="failed"))
    assert message_errors(built["blocks"]) == []
    assert all(len(b["text"]["text"]) <= 3000 for b in built["blocks"] if b["type"] == "section")
    assert len(built["blocks"]) <= 50 and len(built["text"]) <= 3000
    [actions] = [b for b in built["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["retry", "cancel"]
    assert actions["elements"][1]["confirm"]["style"] == "danger"  # Cancel only behind Slack's confirmation


def test_escaping_of_user_text() -> None:
    assert blocks.escape("<!channel> & <@U0STRANGER>") == "&lt;!channel&gt; &amp; &lt;@U0STRANGER&gt;"
    built = message(request(state="rejected", facts={"reject_reason": "<!here> no"}))
    assert "&lt;!here&gt; no" in str(built["blocks"]) and "<!here>" not in str(built["blocks"])
    notice = blocks.notice("mr-blocks", {"event": "x", "text": "<!channel> hi", "user": "<!everyone>",
                                         "actions": [{"action_id": "reverify", "text": "Re-verify"}, "bogus"]})
    assert notice["text"] == "&lt;!channel&gt; hi"  # a user that is not a Slack ID is not mentioned
    assert [e["action_id"] for e in notice["blocks"][1]["elements"]] == ["reverify"]
    assert message_errors(notice["blocks"]) == []


def test_button_texts_fit_and_the_external_id_is_masked() -> None:
    built = message(request())
    assert "dtsbot-secretsecretsecret" not in str(built)
    assert "…cret" in str(built) and "dtsb…" not in str(built)
    assert all(len(e["text"]["text"]) <= 75 for b in built["blocks"] if b["type"] == "actions"
               for e in b["elements"])
    assert len(blocks.button("x", "y" * 200, "v").to_dict()["text"]["text"]) == 75


def test_modals_are_valid_views() -> None:
    assert view_errors(modals.request_modal(SETTINGS)) == []
    prefilled = modals.request_modal(SETTINGS, {"source_account": "shop-prod", "objects": "a" * 5000},
                                     {"request_id": "mr-blocks"})
    assert view_errors(prefilled) == []
    assert view_errors(modals.reject_modal("mr-blocks")) == []


def test_many_problems_are_listed_whole_within_the_section_limit():
    reply = blocks.errors_reply([f"`{i:03}`: not a key=value field" for i in range(500)])
    text = reply["text"]
    assert len(text) <= 3000 and text.endswith("more problems not shown)")
    assert all(line.startswith("• `") and line.endswith("field") for line in text.split("\n")[1:-1])


def test_private_metadata_that_is_not_the_bots_object_is_no_edit() -> None:
    from bot.modals import metadata

    assert metadata({"private_metadata": '{"request_id": "mr-abcdef"}'}) == {"request_id": "mr-abcdef"}
    for crafted in ("{not json", "[1, 2]", "12", "null", ""):
        assert metadata({"private_metadata": crafted}) == {}
