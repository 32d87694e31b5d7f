"""A form Slack will not open (`views.open` refused) is explained, not reported as our bug.

Found by driving `opsloop serve` from outside: an expired trigger, a 429 or a Slack 5xx on
`views.open` told the user "Something went wrong on our side … Nothing you typed was lost;
please try again" and logged an ERROR with a traceback. Now each says what happened and
what to do; a refusal of the form Opsloop built (`invalid_arguments`) is still a bug.
"""

from __future__ import annotations

import logging

import pytest

from tests.support.slack import SlackDriver, SlackStandin

BUG = "Something went wrong on our side"


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        (200, "expired_trigger_id", "could not be opened in time"),
        (200, "exchanged_trigger_id", "could not be opened in time"),
        (429, "ratelimited", "limiting how many forms"),
        (503, "service_unavailable", "Slack could not open the form just now"),
    ],
)
@pytest.mark.parametrize(("command", "text"), [("/escalate", "Checkout down"), ("/feedback", "")])
def test_a_form_slack_will_not_open_is_explained_and_logged_as_a_warning(
    slack: SlackDriver,
    standin: SlackStandin,
    caplog: pytest.LogCaptureFixture,
    command: str,
    text: str,
    status: int,
    error: str,
    says: str,
) -> None:
    standin.fail("views.open", status=status, error=error, retry_after=1 if status == 429 else None)
    with caplog.at_level(logging.WARNING):
        result = slack.command(command, text)
    assert result.status == 200
    reply = result.reply_text
    assert says in reply
    assert "nothing was saved" in reply
    assert BUG not in reply
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_form_slack_refuses_as_built_is_still_a_bug_with_an_id(
    slack: SlackDriver, standin: SlackStandin, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail("views.open", status=200, error="invalid_arguments", retry_after=None)
    result = slack.command("/escalate", "Checkout down")
    assert BUG in result.reply_text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


def test_the_form_opens_once_slack_does_again(slack: SlackDriver, standin: SlackStandin) -> None:
    standin.fail("views.open", status=200, error="expired_trigger_id", retry_after=None)
    slack.command("/escalate", "Checkout down")
    [opened] = slack.command("/escalate", "Checkout down").of("views.open")
    assert opened.params["view"]["callback_id"]
