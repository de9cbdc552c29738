"""Load and validate every `collectors/*.yaml`; report all problems with file:line, then fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from secops.content import Located, load_yaml
from secops.errors import ContentErrors, ParserError, SecopsError
from secops.normalise.definitions import ParserDef, validate

ENV_DIR = "SECOPS_COLLECTORS"


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
        doc: Any = load_yaml(path, ParserError)
    except ParserError as exc:
        return None, [exc]
    if not isinstance(doc, Located):
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
