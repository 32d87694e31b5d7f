"""Tests of escalations."""
