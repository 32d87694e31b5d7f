"""The App Home tab: my open items, my escalations, my processes, the KPIs."""
