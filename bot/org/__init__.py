"""The operating model's people: processes and their one owner, admins, people, settings."""
