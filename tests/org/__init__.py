"""Tests of org."""
