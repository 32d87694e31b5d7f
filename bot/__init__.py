"""Opsloop: a self-hosted Slack bot for product-operations workflows."""
