"""Escalations: the modal, the lifecycle buttons, races, SLA clocks, forged input, KPIs."""
