"""The weekly digest: schedule, sections from real records, templates, limits, the CLI."""
