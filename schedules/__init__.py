"""APScheduler jobs: the inbound adapter for time.

One tick job runs every few minutes (and once at start); it computes from the database what
is due (digests, nudges) and posts it through the send ledger, so missed runs are made up,
DST never doubles a post, and several processes never post twice.
"""
