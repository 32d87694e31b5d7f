"""Owners, admins, team settings and /ops owners|owner|status."""
