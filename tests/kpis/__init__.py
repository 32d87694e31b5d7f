"""KPI commands and value parsing."""
