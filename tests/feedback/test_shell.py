"""Issue item 7: a new user can log feedback, see NPS and edit in `opsloop shell`."""

from __future__ import annotations

import io
from pathlib import Path

from tests.support.slack import run_shell


def test_feedback_in_the_shell(tmp_path: Path) -> None:
    out = io.StringIO()
    lines = [
        "/feedback Acme: CSV export times out #reporting nps:6",
        "/feedback",
        "set 1 Login is slow on mobile",
        "set 2 Globex",
        "set 3 10",
        "submit",
        "/feedback nps",
        "/feedback recent #reporting",
    ]
    run_shell(
        database_url=f"sqlite:///{tmp_path / 'shell.db'}",
        user_id="U0PLAYER",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    output = out.getvalue()
    assert "Logged feedback *#1* from *Acme*" in output
    assert "[modal] Log feedback" in output
    assert "Logged feedback *#2* from *Globex*" in output
    assert "NPS for the last 30 days: 0" in output
    assert "Promoters (9-10): 1" in output and "Detractors (0-6): 1" in output
    assert "tagged #reporting" in output


def test_a_select_is_set_by_option_value_before_position(tmp_path: Path) -> None:
    """`set 3 2` on the NPS select is the score 2. Before, an option whose *position* was 2
    could win over the option whose value is 2, and another score was stored."""
    out = io.StringIO()
    lines = ["/feedback", "set 1 Checkout is slow", "set 3 2", "submit", "/feedback recent"]
    run_shell(
        database_url=f"sqlite:///{tmp_path / 'shell.db'}",
        user_id="U0PLAYER",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    output = out.getvalue()
    assert "NPS: 2 (detractor)" in output, output
