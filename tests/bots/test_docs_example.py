"""The tests of docs/bots.md, verbatim."""

from chatserver.accounts.models import Role

from .standup import Standup


def test_notes(botbox):
    box = botbox(Standup)
    alice, bob = box.user("alice"), box.user("bob", role=Role.ADMIN)
    team = box.room("team", members=[alice, bob], bots=["standup"])

    alice.says(team, "@standup note fixed login")
    team.expect_bot(contains="Noted (1 so far).")

    alice.says(team, "@standup note")                     # a bad call
    alice.expect_ephemeral("Usage: `@standup note <text:rest...>`")

    box.advance("1d")                                     # runs the @every job
    team.expect_bot(contains="Stand-up time")


def test_reset_needs_a_second_person(botbox):
    box = botbox(Standup)
    ada, bo = box.user("ada"), box.user("bo")
    team = box.room("team", admins=[ada, bo], bots=["standup"])   # both room admins
    ada.says(team, "@standup reset")
    card = team.expect_bot(contains="Approval needed")
    run_id = card.body.split("#")[1].split(":")[0]
    ada.says(team, f"@standup approve {run_id}")
    ada.expect_ephemeral("cannot approve your own")
    bo.says(team, f"@standup approve {run_id}")
    team.expect_bot(contains="Notes cleared.")


def test_the_walkthrough_matches_these_files():
    """docs/bots.md shows exactly the bot in standup.py (so its tests test the doc)."""
    import re
    from pathlib import Path

    here = Path(__file__).parent
    doc = (here.parent.parent / "docs" / "bots.md").read_text()
    shown = re.findall(r"```python\n(.*?)```", doc, re.S)[0].strip()
    kept = (here / "standup.py").read_text().split("from bots.sdk", 1)[1]
    assert shown == ("from bots.sdk" + kept).strip()
