"""Checklists: versioned templates, runs posted in a channel, ticks, completion, overdue items."""
