"""Use cases. Each owns its unit of work and returns plain data; no Slack, no rendering."""
