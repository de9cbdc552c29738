"""Safe YAML loading that remembers the line of every mapping key and every list item."""

from __future__ import annotations

from typing import Any

import yaml

from secops.errors import TopologyError


class LDict(dict):
    """A mapping with `line` (where it starts) and `key_lines` (line of each key)."""

    line: int = 0
    column: int = 0
    key_lines: dict[str, int]


class LList(list):
    """A sequence with `line` and `item_lines` (line of each item)."""

    line: int = 0
    item_lines: list[int]


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        raise TopologyError(
            f"invalid YAML: unsupported tag {node.tag!r} (plain YAML only)",
            file,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out = LDict()
        out.line, out.column = node.start_mark.line + 1, node.start_mark.column + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(loader, key_node, file)
            if not isinstance(key, (str, int, float)) or isinstance(key, bool):
                raise TopologyError(
                    "mapping keys must be scalars", file, key_node.start_mark.line + 1
                )
            key = str(key)
            out[key] = _convert(loader, value_node, file)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList(_convert(loader, item, file) for item in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)


def parse(text: str, file: str) -> Any:
    """Parse one YAML document (safe loader only); None for an empty file."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _convert(loader, node, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise TopologyError(
            f"invalid YAML: {exc.problem}",
            file,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise TopologyError(f"invalid YAML: {exc}", file) from None
    finally:
        loader.dispose()
