"""Escalations: detect, acknowledge, find the root cause, correct; SLA clocks per severity."""
