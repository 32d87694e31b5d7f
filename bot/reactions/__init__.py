"""Reaction capture: a configured emoji on a message logs it as feedback or offers to
raise an escalation from it."""
