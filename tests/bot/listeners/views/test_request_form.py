"""The request form submitted: errors on their fields; an edit saved voids the approvals so far."""

from __future__ import annotations

from sandbox.waiting import eventually
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, STRANGER


def test_submission_errors_come_back_on_the_fields(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, "")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    answer = bot.driver.submit_view(REQUESTER, view, {
        "source_account": "shop-prod", "target_account": "shop-prod", "source_region": "ap-guangzhou",
        "source_instance": "cdb-nope", "db_type": "mysql", "objects": "<!channel>",
    })
    assert answer.status == 200 and answer.body["response_action"] == "errors"
    errors = answer.body["errors"]
    assert set(errors) == {"target_account", "target_region", "source_instance", "target_instance", "objects"}
    assert errors["target_account"].startswith("target_account: must differ from source_account")
    assert errors["target_region"] == "target_region: required, e.g. ap-guangzhou"
    assert bot.all_requests() == []


def test_edit_reopens_the_form_prefilled_and_voids_approvals(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    external_id = bot.request(request_id).external_id

    bot.driver.click(REQUESTER, message, "edit")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    initial = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert initial["source_instance"]["initial_value"] == "cdb-src00001"
    assert initial["target_account"]["initial_option"]["value"] == "analytics"
    assert "initial_value" not in initial["external_id"]  # never shown in clear

    assert bot.driver.submit_view(REQUESTER, view, {"objects": "shop,crm.users"}).status == 200
    edited = eventually(lambda: (r := bot.request(request_id)).revision == 2 and r)
    assert edited.objects == "crm.users,shop" and edited.external_id == external_id
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]  # kept for the record, but void:
    bot.notifier.flush()
    refreshed = bot.slack.message(message["ts"])
    assert f"approved by <@{SOURCE_OWNER}>" not in str(refreshed["blocks"])
    assert "Plan revision 2" in str(refreshed["blocks"])
    assert "earlier approvals are void" in bot.slack.thread("C0DTSBOT01", message["ts"])[-1]["text"]


def test_only_the_requester_may_edit(bot: Bot) -> None:
    request_id = bot.create()
    answer = bot.click(STRANGER, bot.posted(request_id), "edit")
    assert "Only the requester" in answer["text"] and bot.slack.views == []
    assert bot.refusals(request_id) == [(STRANGER, "edit")]


REDIS = inline(db_type="redis", source_instance="crs-src00001", target_instance="crs-dst00001")


def test_the_form_offers_the_guides_engines_and_the_documented_write_modes(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, "")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    options = {b["block_id"]: [o["value"] for o in b["element"].get("options", [])] for b in view["blocks"]}
    assert options["db_type"] == ["mysql", "postgresql", "mongodb", "sqlserver", "redis", "tendis"]
    assert options["write_mode"] == ["clearData", "overwrite", "normal"]
    answer = bot.driver.submit_view(REQUESTER, view, {
        "source_account": "shop-prod", "target_account": "analytics", "source_region": "ap-guangzhou",
        "target_region": "ap-guangzhou", "source_instance": "cdb-src00001", "target_instance": "cdb-dst00001",
        "db_type": "mysql", "write_mode": "overwrite",
    })
    assert answer.body["response_action"] == "errors"
    assert answer.body["errors"] == {"write_mode": "write_mode: `overwrite` is for Redis and Tendis only (DTS's "
                                                   "DstWriteMode); leave write_mode empty for MySQL"}


def test_an_edit_of_the_write_mode_is_shown_in_the_plan_and_voids_approvals(bot: Bot) -> None:
    request_id = bot.create(REDIS)
    message = bot.posted(request_id)
    assert bot.request(request_id).write_mode == "normal"
    assert "Redis write mode `normal`: the target must be empty, else verification fails" in str(message["blocks"])
    bot.click(SOURCE_OWNER, message, "approve_source")

    bot.driver.click(REQUESTER, message, "edit")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    initial = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert initial["write_mode"]["initial_option"]["value"] == "normal"
    assert bot.driver.submit_view(REQUESTER, view, {"write_mode": "overwrite"}).status == 200
    edited = eventually(lambda: (r := bot.request(request_id)).revision == 2 and r)
    assert edited.write_mode == "overwrite"
    bot.notifier.flush()
    refreshed = str(bot.slack.message(message["ts"])["blocks"])
    assert "Redis write mode `overwrite`: keys that exist on the target are overwritten" in refreshed
    assert f"approved by <@{SOURCE_OWNER}>" not in refreshed
