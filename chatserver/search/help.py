"""The search syntax, as shown by `@help search` and documented in docs/api.md."""

SYNTAX_HELP = """\
Search finds messages in the rooms you can read (your rooms and public rooms).
Words are matched with English stemming: deploy finds deploys, deployed, deploying.
  "exact phrase"      the words in this order
  -word               leave out messages with this word (works on operators too)
  deplo*              words starting with deplo
  api-7f9c 10.2.3.4   text with punctuation (hosts, IPs, error codes, paths) is
  ERR_CONN_RESET      found as typed, also inside a longer token
  in:#room            only in this room (give several to search several rooms)
  from:@user          only by this person or bot
  before:2026-01-31   before that day; after:2026-01-31 after it; on:2026-01-31 that day
  has:link has:code has:reaction
  is:thread           thread roots and replies
  is:mentioned        messages that mention you (or @room)
Results are ranked by relevance (newest first on a tie); ask for sort=recent for
newest first. Example: deploy failed in:#ops from:@ci after:2026-01-01 -staging
"""
