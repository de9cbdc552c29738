"""Load and validate every `collectors/*.yaml`; report all problems with file:line, then fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from secops.errors import ContentErrors, ParserError, SecopsError
from secops.normalise.definitions import ParserDef, validate

ENV_DIR = "SECOPS_COLLECTORS"


class _LineDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers its own line and the line of each key."""

    line: int | None = None
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def default_parsers_dir() -> Path:
    """$SECOPS_COLLECTORS, else the repository's collectors/ next to the package."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "collectors"


def load_parsers(parsers_dir: str | Path | None = None) -> list[ParserDef]:
    """Every parser under `parsers_dir` (sorted by id). Raises ContentErrors listing all errors."""
    folder = Path(parsers_dir) if parsers_dir is not None else default_parsers_dir()
    if not folder.is_dir():
        raise ContentErrors([ParserError("parsers directory not found", str(folder))])
    parsers: list[ParserDef] = []
    errors: list[SecopsError] = []
    for path in sorted(folder.glob("*.yaml")):
        parser, errs = _load_one(path)
        errors.extend(errs)
        if parser is not None:
            parsers.append(parser)
    errors.extend(_claim_conflicts(parsers))
    if errors:
        raise ContentErrors(errors)
    return parsers


def _load_one(path: Path) -> tuple[ParserDef | None, list[SecopsError]]:
    try:
        doc: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [ParserError(f"invalid YAML: {getattr(exc, 'problem', exc)}", str(path), line)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ParserError(f"cannot read: {exc}", str(path))]
    if not isinstance(doc, _LineDict):
        return None, [ParserError("a parser file must be a mapping", str(path), 1)]
    parser = ParserDef.from_dict(doc, file=str(path))
    errors: list[SecopsError] = list(validate(parser, doc.key_lines))
    if parser.id != path.stem:
        errors.append(
            ParserError(
                f"id {parser.id!r} must equal the file name {path.stem!r}",
                str(path),
                doc.key_lines.get("id", 1),
            )
        )
    return (parser if not errors else None), errors


def _claim_conflicts(parsers: list[ParserDef]) -> list[SecopsError]:
    """A program or a format may be claimed by one parser only."""
    owner: dict[str, str] = {}
    errors: list[SecopsError] = []
    for p in parsers:
        for claim in [f"program {x!r}" for x in p.programs] + [f"format {x!r}" for x in p.formats]:
            if claim in owner:
                errors.append(
                    ParserError(
                        f"{claim} already handled by parser {owner[claim]!r}",
                        p.file,
                        p.lines.get("applies_to"),
                    )
                )
            owner.setdefault(claim, p.id)
    return errors
