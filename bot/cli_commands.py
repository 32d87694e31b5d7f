"""Subcommands contributed by capabilities (export, digest, nudge, playbook, …)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add every capability's commands to the `opsloop` group."""
