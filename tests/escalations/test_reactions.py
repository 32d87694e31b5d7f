"""Escalation by reaction: a :rotating_light: cannot open a form (an event has no trigger),
so the reactor gets a private offer whose *Raise escalation* opens the escalation form
filled in from the message, and the escalation keeps the message's permalink."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.escalations import modals
from bot.escalations.render import NewEscalationMeta
from bot.reactions.models import RAISE_ACTION
from storage.db import SessionFactory
from tests.support.escalations import OWNER, PROCESS_OWNER, new_values, only_escalation, setup_roles
from tests.support.reactions import (
    ADMIN,
    CHANNEL,
    PARTNER_TEAM,
    PARTNER_USER,
    REACTOR,
    SECOND,
    all_text,
    button,
    effects,
    ephemerals,
    post_message,
    raise_click,
    react,
)
from tests.support.slack import SlackDriver, SlackStandin


def _permalink(ts: str) -> str:
    return f"https://standin.slack.test/archives/{CHANNEL}/p{ts.replace('.', '')}"


def test_rotating_light_offers_an_escalation_that_keeps_the_permalink(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    ts = post_message(standin, "Checkout is down for EU &amp; UK\nSince 09:40, every card fails")
    result = react(slack, ts, reaction="rotating_light")
    [offer] = ephemerals(result, REACTOR)
    assert offer.params["channel"] == CHANNEL
    assert "Raise an escalation" in all_text(offer) and "EU &amp; UK" in all_text(offer)
    assert button(offer, RAISE_ACTION)["value"]
    opened = raise_click(slack, offer)
    [view_call] = opened.of("views.open")
    view = view_call.params["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[modals.TITLE]["element"]["initial_value"] == "Checkout is down for EU & UK"
    assert "every card fails" in blocks[modals.DESCRIPTION]["element"]["initial_value"]
    assert blocks[modals.LINK]["element"]["initial_value"] == _permalink(ts)
    assert blocks[modals.OWNER]["element"]["initial_user"] == PROCESS_OWNER
    meta = view["private_metadata"]
    # Submitted with the link field cleared, the escalation still keeps the permalink.
    values = new_values(title="Checkout is down for EU & UK", owner=OWNER, link=None)
    assert slack.submit(modals.NEW_CALLBACK, values, private_metadata=meta).status == 200
    e = only_escalation(sessions, clock)
    assert e.link == _permalink(ts)


def test_the_offer_is_only_for_the_reactor_or_an_admin(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    ts = post_message(standin, "Payments webhook failing")
    [offer] = ephemerals(react(slack, ts, reaction="rotating_light"))
    refused = raise_click(slack, offer, user=SECOND)
    assert not refused.of("views.open") and "Only the person who reacted" in refused.reply_text
    assert raise_click(slack, offer, user=ADMIN).of("views.open")
    # A feedback capture's id in a Raise button is not an escalation offer.
    feedback_ts = post_message(standin, "Nice work")
    [receipt] = ephemerals(react(slack, feedback_ts, event_id="Ev0FB"))
    undo_value = button(receipt, "reaction.undo")["value"]
    forged = slack.click(RAISE_ACTION, undo_value, user=REACTOR)
    assert not forged.of("views.open") and "does not point" in forged.reply_text


def test_each_person_gets_their_own_offer_and_a_retry_adds_nothing(
    slack: SlackDriver, standin: SlackStandin
) -> None:
    ts = post_message(standin, "Login loops forever")
    react(slack, ts, reaction="rotating_light", event_id="Ev0ESC1")
    assert not effects(react(slack, ts, reaction="rotating_light", event_id="Ev0ESC1", retry_num=1))
    second = react(slack, ts, reaction="rotating_light", user=SECOND, event_id="Ev0ESC2")
    assert ephemerals(second, SECOND)


def test_a_partner_reaction_goes_to_the_escalation_owner_never_to_the_shared_channel(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    ts = post_message(standin, "Our whole team is locked out", user=PARTNER_USER)
    result = react(
        slack,
        ts,
        reaction="rotating_light",
        user=PARTNER_USER,
        user_team=PARTNER_TEAM,
        partner_team_id=PARTNER_TEAM,
    )
    assert not result.of("chat.postEphemeral")
    [dm] = result.of("chat.postMessage")
    assert dm.params["channel"] == PROCESS_OWNER and PARTNER_TEAM in all_text(dm)
    opened = raise_click(slack, dm, user=PROCESS_OWNER)
    [view_call] = opened.of("views.open")
    meta = NewEscalationMeta.decode(view_call.params["view"]["private_metadata"])
    # No channel from a shared channel: neither the escalation nor its confirmation
    # can land where the customer reads.
    assert meta.channel_id is None and meta.source_link == _permalink(ts)
