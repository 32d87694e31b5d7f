"""The scheduler: its lease, its configuration, the jobs it runs."""
