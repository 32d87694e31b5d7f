"""kpis."""
