"""KPIs: targets and owners, values logged by people or computed from the records."""
