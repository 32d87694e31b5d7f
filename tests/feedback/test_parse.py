"""The inline `/feedback` syntax and the modal's field validation (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.feedback.parse import (
    EmptyFeedbackError,
    FeedbackFormError,
    FeedbackInputError,
    ParsedFeedback,
    parse_form,
    parse_inline,
    parse_tag_list,
)
from bot.text import has_visible_text


def test_customer_tags_and_score_are_taken_off_the_text() -> None:
    parsed = parse_inline("Acme: CSV export times out #reporting nps:6")
    assert parsed == ParsedFeedback(
        text="CSV export times out", customer="Acme", tags=("reporting",), nps=6
    )


def test_mid_sentence_tag_stays_in_the_text_and_is_recorded() -> None:
    parsed = parse_inline("the #Billing page is slow NPS:9 #UX")
    assert parsed.text == "the #Billing page is slow"
    assert parsed.tags == ("billing", "ux")
    assert parsed.nps == 9
    assert parsed.customer is None


def test_plain_text_is_kept_exactly() -> None:
    text = "Robert'); DROP TABLE feedback;-- said: issue #42 at https://x.test/a?b=c"
    assert parse_inline(text) == ParsedFeedback(text=text)


def test_multiline_text_keeps_its_lines() -> None:
    parsed = parse_inline("Globex: first line nps:3\nsecond line\n#onboarding")
    assert parsed.text == "first line\nsecond line"
    assert parsed.customer == "Globex"
    assert parsed.nps == 3
    assert parsed.tags == ("onboarding",)


def test_nps_with_trailing_punctuation() -> None:
    assert parse_inline("great product, nps:10.").nps == 10


@pytest.mark.parametrize("raw", ["nps:11", "nps:-1", "nps:abc", "nps:", "nps:٣", "nps:1.5"])
def test_bad_scores_name_the_range(raw: str) -> None:
    with pytest.raises(FeedbackInputError) as caught:
        parse_inline(f"Acme: slow exports {raw}")
    assert caught.value.field == "nps"
    assert "0 to 10" in caught.value.message
    assert caught.value.example


def test_two_scores_are_refused() -> None:
    with pytest.raises(FeedbackInputError, match="one"):
        parse_inline("nps:3 and nps:4")


@pytest.mark.parametrize("raw", ["Acme:", "#billing nps:4", "Acme: #billing", "  "])
def test_nothing_left_is_empty(raw: str) -> None:
    with pytest.raises(EmptyFeedbackError):
        parse_inline(raw)


def test_error_echo_cannot_carry_markup() -> None:
    with pytest.raises(FeedbackInputError) as caught:
        parse_inline("text nps:<!channel>")
    assert "<!channel>" not in caught.value.user_text()


def test_tag_list_accepts_commas_spaces_and_hashes() -> None:
    assert parse_tag_list("Reporting, #data-export  ux,reporting") == (
        "reporting",
        "data-export",
        "ux",
    )
    with pytest.raises(FeedbackInputError):
        parse_tag_list("good, 42")


def test_form_collects_every_error() -> None:
    with pytest.raises(FeedbackFormError) as caught:
        parse_form(
            text="   ",
            customer="x" * 201,
            nps="11",
            known_tags=[],
            new_tags="ok, !bad",
            source="fax",
        )
    assert set(caught.value.errors) == {"text", "customer", "nps", "tags", "source"}
    assert "0 to 10" in caught.value.errors["nps"]


def test_form_merges_known_and_new_tags() -> None:
    parsed = parse_form(
        text=" Exports fail ",
        customer=" Acme ",
        nps="none",
        known_tags=["billing"],
        new_tags="Billing, reporting",
        source="call",
    )
    assert parsed == ParsedFeedback(
        text="Exports fail", customer="Acme", tags=("billing", "reporting"), source="call"
    )


_plain = st.text(
    # NUL and the bidi embedding controls are left out too: they are removed (tested below).
    alphabet=st.characters(
        blacklist_characters="#:\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        blacklist_categories=("Cs",),
    ),
    min_size=1,
)


@given(_plain)
def test_text_without_markers_is_stored_as_typed(text: str) -> None:
    """No `#`, no colon: the text comes back exactly (only surrounding blanks go)."""
    try:
        parsed = parse_inline(text)
    except EmptyFeedbackError:
        assert not has_visible_text(text)
        return
    assert parsed.text == text.strip()
    assert parsed.customer is None and parsed.tags == () and parsed.nps is None


@given(st.text())
def test_parser_never_fails_with_anything_but_a_user_error(text: str) -> None:
    try:
        parsed = parse_inline(text)
    except UserError:
        return
    assert parsed.text
    assert parsed.nps is None or 0 <= parsed.nps <= 10


@pytest.mark.parametrize("unstorable", ["\x00", "\ud800", "\udfff", "\u202e", "\u2066"])
def test_characters_no_database_can_store_are_removed(unstorable: str) -> None:
    """A NUL or a lone surrogate made every save fail ("try again" could never succeed)."""
    parsed = parse_form(
        text=f"Export{unstorable} fails",
        customer=f"Ac{unstorable}me",
        nps="3",
        known_tags=[],
        new_tags=f"rep{unstorable}orting",
        source=None,
    )
    assert (parsed.text, parsed.customer, parsed.tags) == ("Export fails", "Acme", ("reporting",))
    inline = parse_inline(f"Acme: it{unstorable} broke #sso")
    assert inline.text == "it broke" and inline.customer == "Acme"
