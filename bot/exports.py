"""Exports: one shape (`Export`) and two writers (CSV, JSON) shared by every domain's export,
so each gets the same UTF-8 handling, spreadsheet safety and `--since` filter.

Each domain's `export.py` returns an `Export`; `bot.cli.export.EXPORTERS` names them all.
No storage and no Slack here: plain rows in, text out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any


@dataclass(frozen=True)
class Export:
    """Column names and the rows (dicts keyed by column) of one export."""

    columns: list[str]
    rows: Iterable[dict[str, Any]]


# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, list | tuple) and any(isinstance(v, dict) for v in value):
        value = json.dumps(list(value), ensure_ascii=False)  # records in a cell: as JSON
    elif isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def write_csv(export: Export, stream: IO[str]) -> int:
    """Write `export` as CSV with a header; returns the number of rows written."""
    writer = csv.DictWriter(stream, fieldnames=export.columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in export.rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in export.columns})
        count += 1
    return count


def write_json(export: Export, stream: IO[str]) -> int:
    """Write `export` as a JSON array of objects; returns the number of rows written."""
    count = 0
    stream.write("[")
    for row in export.rows:
        stream.write(",\n" if count else "\n")
        stream.write(
            json.dumps({k: _plain(row.get(k)) for k in export.columns}, ensure_ascii=False)
        )
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count
