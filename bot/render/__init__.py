"""Rendering: plain data in, `(text, blocks)` out. No database, no Slack calls."""
