"""A person opens the app's Home tab: publish their Home (views.publish) from the database as it is now, in
their own Slack locale."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home import home_view
from bot.services import Services, from_context
from bot.user_locale import locale_for_user
from core import i18n
from core.plan import plan_for

log = logging.getLogger(__name__)


def app_home_opened(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Only the Home tab has a view (the Messages tab holds the bot's DMs)."""
    if event.get("tab") == "home":
        publish_home(from_context(context), client, event["user"])


def publish_home(services: Services, client: WebClient, user: str, notice: str | None = None) -> None:
    """Render and publish `user`'s Home; `notice` answers a click made on it (approving from the Home)."""
    home = services.requests.home(user)
    requests = [request for request, _sides in home.awaiting] + home.open + home.finished
    permalinks = {}
    for request in requests:
        if request.channel and request.message_ts and request.id not in permalinks:
            try:
                permalinks[request.id] = client.chat_getPermalink(channel=request.channel,
                                                                  message_ts=request.message_ts)["permalink"]
            except SlackApiError as error:  # no link this time; the Home is still worth showing
                log.warning("no permalink for %s: %s", request.id, error.response.get("error"))
    with i18n.speaking(locale_for_user(client, user)):  # the Home is the viewer's, whoever's click refreshed it
        plans = {request.id: plan_for(request, services.settings,
                                      source_approved="source" in services.approved_by(request))
                 for request, _sides in home.awaiting}
        view = home_view(home, permalinks, plans, notice)
    client.views_publish(user_id=user, view=view)
