"""Persistence: SQLAlchemy 2.0 models, query functions and Alembic migrations.

`storage` knows nothing of Slack or the bot. Engines and session factories are built by
`make_engine()` / `make_session_factory()`; nothing is created at import time.
"""
