"""Bolt listeners: the inbound adapter for Slack, one module per command family.

Each module exposes `register(app)` (called by `bot.wiring.build_app`); a listener
normalises the request, calls one domain service, renders and answers. Handlers never
touch the database directly and never import each other.
"""
