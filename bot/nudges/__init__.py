"""Overdue nudges: one DM per owner per local day, and the report to process owners."""
