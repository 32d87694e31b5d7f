"""Tests of kpis."""
