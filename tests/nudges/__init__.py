"""Nudges: timezones, the ledger, Done and Snooze, the sources with real records, the CLI."""
