"""Load YAML and remember the line of every mapping key and list item.

PyYAML's `safe_load` forgets positions. Here the document is composed into a node tree
first; the data is constructed from it as usual, and a walk over the same nodes records
`path → line` (path as pydantic writes error locations: `("kpis", 2, "owner")`). Duplicate
keys, which PyYAML silently lets the last one win, are reported instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """The text is not valid YAML; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class LineMap:
    """Where each path of a loaded document starts (1-based lines)."""

    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of `path`, or of its nearest ancestor that exists in the file."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


def load_with_lines(text: str) -> tuple[Any, LineMap]:
    """Parse YAML `text` into plain data plus a `LineMap`; raise `YamlSyntaxError`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(line, str(exc.problem or exc)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, str(exc)) from None
    line_map = LineMap()
    if node is None:
        return None, line_map
    line_map.lines[()] = node.start_mark.line + 1
    _walk(node, (), line_map)
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(mark.line + 1 if mark else 1, str(exc.problem or exc)) from None
    finally:
        loader.dispose()
    return data, line_map


def _walk(node: yaml.Node, path: Path, line_map: LineMap) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                line_map.duplicates.append((child, line))
                continue
            seen.add(key)
            line_map.lines[child] = line
            _walk(value_node, child, line_map)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            line_map.lines[child] = item.start_mark.line + 1
            _walk(item, child, line_map)
