"""Loading the rule library: one rule per file, file name = rule id; all errors, then fail."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secops.content import load_yaml, repo_path, yaml_files
from secops.correlate.rule import Rule
from secops.errors import ContentError, ContentErrors, RuleError, SecopsError
from secops.sigma.sniff import sniff


def default_rules_dir() -> Path:
    return repo_path("rules")


def load_rules(
    paths: Sequence[str | Path] | str | Path | None = None, *, strict_names: bool = True
) -> list[Rule]:
    """Load every rule under `paths` (files or directories; default: the shipped library).

    Every file is checked; all errors are raised together as ContentErrors.
    """
    if paths is None:
        paths = [default_rules_dir()]
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    rules: list[Rule] = []
    errors: list[SecopsError] = []
    seen: dict[str, str] = {}
    sigma: dict[str, list[Path]] = {"sigma": [], "overlay": []}
    for root in paths:
        try:
            files = yaml_files(root)
        except ContentError as exc:
            errors.append(exc)
            continue
        for file in files:
            if file.name.startswith("_"):
                continue
            kind = sniff(file)  # Sigma rules and the Sigma overlay go to secops.sigma
            if kind:
                sigma[kind].append(file)
                continue
            try:
                rule = Rule.from_dict(load_yaml(file), str(file))
                if strict_names and file.stem != rule.id:
                    raise RuleError(
                        f"file name must be the rule id: rename to '{rule.id}{file.suffix}'",
                        str(file),
                        rule.line,
                    )
                if rule.id in seen:
                    raise RuleError(
                        f"duplicate rule id '{rule.id}' (also in {seen[rule.id]})",
                        str(file),
                        rule.line,
                    )
                seen[rule.id] = str(file)
                rules.append(rule)
            except SecopsError as exc:
                errors.append(exc)
    if sigma["sigma"] or sigma["overlay"]:
        _add_sigma(sigma["sigma"], sigma["overlay"], rules, errors, seen)
    if errors:
        raise ContentErrors(errors)
    return rules


def _add_sigma(
    files: list[Path],
    overlays: list[Path],
    rules: list[Rule],
    errors: list[SecopsError],
    seen: dict[str, str],
) -> None:
    """Sigma rules (pySigma) next to native ones; unsupported ones are errors, never dropped."""
    from secops.sigma.load import load_sigma

    loaded = load_sigma(files, overlays)
    errors.extend(loaded.errors)
    for rule in loaded.rules:
        if rule.id in seen:
            errors.append(
                RuleError(f"duplicate rule id '{rule.id}' (also in {seen[rule.id]})", rule.file)
            )
            continue
        seen[rule.id] = str(rule.file)
        rules.append(rule)
