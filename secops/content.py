"""Loading YAML content (rules, parsers, topology, config) safely, with line numbers.

`load_yaml(path)` returns plain data where every mapping is a `Located` dict that knows the
line and column it started at and the line of each key, so loaders can report
`file:line:col: reason` for any entry they reject.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from secops.errors import ContentError


class Located(dict):
    """A dict that remembers where it (and each of its keys) sat in the source file."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    key_lines: dict[str, int]

    def where(self, key: str | None = None) -> tuple[str | None, int | None]:
        if key is not None and key in getattr(self, "key_lines", {}):
            return self.file, self.key_lines[key]
        return self.file, self.line


class LocatedList(list):
    """A list that remembers its line and the line of each item."""

    file: str | None = None
    line: int | None = None
    item_lines: list[int]


#: libyaml's parser (same nodes, marks and errors, ~15x faster: a 10,000-asset topology) when
#: PyYAML was built with it
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PLAIN_TAGS = {
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
}
_STR_TAG = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
#: key tags `flatten_mapping` rewrites (`<<` merges, `=` values); other mappings skip it
_FLATTEN_TAGS = {"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a big acyclic tree.

    Every node and dict allocated counts towards a collection, and each collection walks the
    tree built so far: a 10,000-asset topology parsed ~4x slower with it on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _convert(loader: Any, node: yaml.Node, file: str | None, error: type[ContentError]) -> Any:
    if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
        return node.value  # what the safe constructor returns for a string, without its dispatch
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise error(
            f"invalid YAML: unsupported tag {node.tag!r}",
            file,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
        )
    if isinstance(node, yaml.MappingNode):
        return _mapping(loader, node, file, error)
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedList(
            item.value
            if item.tag == _STR_TAG and type(item) is yaml.ScalarNode
            else _convert(loader, item, file, error)
            for item in node.value
        )
        seq.file, seq.line = file, node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)


def _mapping(
    loader: Any, node: yaml.MappingNode, file: str | None, error: type[ContentError]
) -> Located:
    if any(key_node.tag in _FLATTEN_TAGS for key_node, _ in node.value):
        loader.flatten_mapping(node)
    out = Located()
    out.file, out.line, out.column = file, node.start_mark.line + 1, node.start_mark.column + 1
    out.key_lines = lines = {}
    for key_node, value_node in node.value:
        if key_node.tag == _STR_TAG and type(key_node) is yaml.ScalarNode:
            key = key_node.value
        else:
            key = _convert(loader, key_node, file, error)
            if not isinstance(key, (str, int, float)) or isinstance(key, bool):
                raise error(
                    "mapping keys must be scalars",
                    file,
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            key = str(key)
        if value_node.tag == _STR_TAG and type(value_node) is yaml.ScalarNode:
            out[key] = value_node.value
        else:
            out[key] = _convert(loader, value_node, file, error)
        lines[key] = key_node.start_mark.line + 1
    return out


def parse_yaml(text: str, file: str | None = None, error: type[ContentError] = ContentError) -> Any:
    """Parse one YAML document with the safe loader (None when empty); mappings come back as
    `Located`, sequences as `LocatedList`. Errors are raised as `error` with file:line:col."""
    loader = _Loader(text)
    try:
        with no_gc():
            node = loader.get_single_node()
            return None if node is None else _convert(loader, node, file, error)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise error(
            f"invalid YAML: {exc.problem}",
            file,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", file) from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path, error: type[ContentError] = ContentError) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read: {exc}", str(path)) from None
    return parse_yaml(text, str(path), error)


def yaml_files(path: str | Path) -> list[Path]:
    """One file, or every *.yaml / *.yml under a directory (recursive, sorted)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    raise ContentError("no such file or directory", str(path))


def repo_path(*parts: str) -> Path:
    """A path in the source tree next to the package (rules/, collectors/, topology/)."""
    return Path(__file__).resolve().parent.parent.joinpath(*parts)
