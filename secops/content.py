"""Loading YAML content (rules, parsers, topology, config) safely, with line numbers.

`load_yaml(path)` returns plain data where every mapping is a `Located` dict that knows the
line and column it started at and the line of each key, so loaders can report
`file:line:col: reason` for any entry they reject.
"""

from __future__ import annotations

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


class _Loader(yaml.SafeLoader):
    file_name: str | None = None


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    out = Located()
    out.file = loader.file_name
    out.line = node.start_mark.line + 1
    out.column = node.start_mark.column + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise ContentError(
                "mapping keys must be scalars",
                loader.file_name,
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
        key = str(key) if not isinstance(key, str) else key
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse one YAML document with the safe loader; mappings come back as `Located`."""

    class Loader(_Loader):
        file_name = file

    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ContentError(
            f"invalid YAML: {exc.problem}",
            file,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ContentError(f"invalid YAML: {exc}", file) from None


def load_yaml(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"cannot read: {exc}", str(path)) from None
    return parse_yaml(text, str(path))


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
