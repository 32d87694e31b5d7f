"""`/ops status`: the health of the operation — owners, KPI data, SOP reviews."""
