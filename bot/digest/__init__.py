"""The weekly review digest: which week is due, its sections in order, Block Kit from Jinja2."""
