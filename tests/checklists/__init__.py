"""Checklist templates, runs, ticks (also concurrent), overdue items and the export."""
