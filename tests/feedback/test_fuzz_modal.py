"""Hypothesis fuzzing of the feedback modal's value reader through the real app: any
submitted values (and any private_metadata) give either field errors on the modal, or a
stored record with a receipt — never a 5xx, never a generic error."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.deps import Deps
from bot.feedback.modal import MODAL_CALLBACK, FeedbackModalMeta, Field
from bot.feedback.service import list_feedback_records
from tests.support.slack import SlackDriver, payloads

GENERIC_ERROR = "Something went wrong on our side"
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


def mostly(valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """Valid three times in four, so whole forms are often accepted and stored."""
    return st.one_of(valid, valid, valid, anything)


words = st.text(alphabet="abcdefghij klmnop:#", min_size=1, max_size=60)
maybe_text = mostly(words, st.one_of(st.none(), text))
score = mostly(
    st.sampled_from([None, "none"] + [str(n) for n in range(11)]),
    st.one_of(st.sampled_from(["-1", "11"]), text),
)
source = mostly(st.sampled_from([None, "call", "email", "slack", "other"]), text)
tags = mostly(
    st.lists(st.sampled_from(["billing", "reporting", "onboarding"]), max_size=5, unique=True),
    st.lists(text, max_size=25),
)
new_tags = mostly(
    st.one_of(
        st.none(),
        st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True), max_size=4).map(
            ", ".join
        ),
    ),
    st.one_of(st.none(), text),
)
new_record = st.builds(
    lambda key: FeedbackModalMeta(submission_key=key).dump(), st.uuids().map(str)
)
metadata = mostly(
    st.one_of(st.just(""), new_record),
    st.one_of(
        text,
        st.builds(
            lambda key, feedback_id, channel: json.dumps(
                {"submission_key": key, "feedback_id": feedback_id, "reply_channel": channel}
            ),
            st.text(min_size=1, max_size=40),
            st.one_of(st.none(), st.integers(min_value=-5, max_value=10**12)),
            st.one_of(st.none(), st.sampled_from(["C0001", "D0001", "bogus"])),
        ),
    ),
)


def _values(draw_text: Any, customer: Any, nps: Any, known: Any, new: Any, src: Any) -> Any:
    values: dict[str, dict[str, dict[str, Any]]] = {}

    def put(field: Field, value: dict[str, Any] | None) -> None:
        if value is not None:
            values[field] = {field: value}

    put(Field.TEXT, payloads.text_value(draw_text))
    put(Field.CUSTOMER, payloads.text_value(customer))
    put(Field.NPS, payloads.select_value(nps))
    put(Field.KNOWN_TAGS, payloads.multi_select_value(known))
    put(Field.NEW_TAGS, payloads.text_value(new))
    put(Field.SOURCE, payloads.select_value(src))
    return values


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=maybe_text,
    customer=maybe_text,
    nps=score,
    known=tags,
    new=new_tags,
    src=source,
    meta=metadata,
)
def test_any_modal_values_give_field_errors_or_a_stored_record(
    slack: SlackDriver,
    deps: Deps,
    body: Any,
    customer: Any,
    nps: Any,
    known: Any,
    new: Any,
    src: Any,
    meta: str,
) -> None:
    before = len(list_feedback_records(deps.sessions, team_id=None, since=None))
    result = slack.submit(
        MODAL_CALLBACK,
        _values(body, customer, nps, known, new, src),
        private_metadata=meta,
    )
    assert result.status == 200
    said = " ".join(str(c.params.get("text")) for c in result.calls)
    assert GENERIC_ERROR not in said
    after = len(list_feedback_records(deps.sessions, team_id=None, since=None))
    if isinstance(result.body, dict) and result.body.get("response_action") == "errors":
        errors = result.body["errors"]
        assert errors and all(isinstance(m, str) and m for m in errors.values())
        assert set(errors) <= {str(f) for f in Field}  # each error sits on a real block
        assert after == before
    else:
        # accepted: stored (or an edit / a repeat of an already stored submission)
        assert after in (before, before + 1)
        if after == before + 1:
            assert result.of("chat.postEphemeral") or result.of("chat.postMessage")
