"""Slack's own SDK posting to our URL on a real server process."""

from __future__ import annotations

from slack_sdk.webhook import WebhookClient

from chatserver.chat import actions
from chatserver.chat.models import Message
from chatserver.integrations import service


def test_slack_sdk_webhook_client_posts_into_the_room(live, make_user):
    ada = make_user("ada")
    room = actions.create_room(actor=ada, name="ops", visibility="public")
    hook, token = service.create_webhook(actor=ada, room_id=room.id,
                                         data={"name": "Slack tool", "kind": "incoming"})
    client = WebhookClient(f"{live.url}/hooks/{token}")

    resp = client.send(text="Nightly build <https://ci.example.com/1|#1> passed",
                       attachments=[{"color": "good", "title": "Tests",
                                     "fields": [{"title": "Passed", "value": "812",
                                                 "short": True}]}])
    assert (resp.status_code, resp.body) == (200, "ok")
    resp = client.send(text="fallback", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* finished"}}])
    assert resp.status_code == 200

    bad = WebhookClient(f"{live.url}/hooks/wh_nope").send(text="x")
    assert bad.status_code == 404 and '"not_found"' in bad.body

    bodies = list(Message.objects.filter(room=room, author=hook.bot_user)
                  .order_by("seq").values_list("body", flat=True))
    assert bodies == [
        "Nightly build [#1](https://ci.example.com/1) passed\n"
        "> 🟢 **Tests**\n> **Passed**: 812",
        "*Deploy* finished",  # the blocks are shown; text is the notification fallback
    ]
