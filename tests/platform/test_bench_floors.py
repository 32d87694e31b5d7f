"""The floors the benches print beside their times: what Slack's limits allow at best."""

from __future__ import annotations

import pytest

from bench.replicas import drain_floor


def test_the_drain_floor_is_the_busiest_channel_at_a_post_a_second() -> None:
    # C1: 5 alerts from t=10 (its last at the earliest at t=14); C2: 2 alerts.
    posts = [("C1", 10.0 + n * 1.2) for n in range(5)] + [("C2", 10.5), ("C2", 11.0)]
    floor = drain_floor(posts, load_ended=12.0)
    assert floor["alert_channels"] == 2
    assert floor["busiest_channel_alerts"] == 5
    assert floor["drain_floor_s"] == pytest.approx(2.0)  # 14 - 12
    assert floor["last_alert_after_load_s"] == pytest.approx(2.8)  # 14.8 - 12
    assert floor["shortest_channel_gap_s"] == pytest.approx(0.5)  # C2: faster than Slack


def test_no_alerts_no_floor() -> None:
    assert drain_floor([], load_ended=1.0)["drain_floor_s"] == 0.0
