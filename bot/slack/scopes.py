"""The bot scopes Opsloop needs, each with why: what `opsloop doctor` compares with the
scopes Slack says a token has (the `x-oauth-scopes` header of every Web API answer).

app.yaml (the manifest people paste into Slack) declares the same list;
tests/platform/test_manifest.py checks that both agree and that every Web API method the
code calls is covered.
"""

from __future__ import annotations

BOT_SCOPES: dict[str, str] = {
    "commands": "the slash commands and the message shortcut",
    "chat:write": "posts, updates and private replies",
    "im:write": "opening the DMs nudges and notices go to",
    "users:read": "names, timezones and deactivated owners (users.info)",
    # The outbox sender looks a post up by its metadata key before sending it again when
    # Slack's answer was lost (a timeout, a crash): conversations.history / replies.
    "channels:history": "finding a post whose answer was lost, in public channels",
    "groups:history": "finding a post whose answer was lost, in private channels",
    "im:history": "finding a post whose answer was lost, in DMs",
    # `opsloop doctor` asks conversations.info whether the bot is in each channel.
    "channels:read": "checking the bot is in the configured public channels",
    "groups:read": "checking the bot is in the configured private channels",
    # Reaction capture: the event, then the message reacted to (the history scopes above).
    "reactions:read": "capturing a message someone reacts to with :memo: or :rotating_light:",
    # Playbook owners may be written as e-mail addresses (users.lookupByEmail).
    "users:read.email": "resolving owners the playbook names by e-mail address",
    # KPI charts are uploaded with files_upload_v2 and shown in image blocks by file id.
    "files:write": "uploading the KPI charts of the digest, /kpi show and the App Home",
}
