"""The one JSON-lines sink: `correlate --output` rewrites its file, `run --output` appends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secops.errors import SinkError
from secops.sink import JsonlSink

A, B, C = ({"finding": {"id": x}} for x in "abc")


def ids(path: Path) -> list[str]:
    return [json.loads(line)["finding"]["id"] for line in path.read_text().splitlines()]


def test_a_rewrite_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "findings.jsonl"
    assert JsonlSink(out).write([A, B]) == 2
    assert JsonlSink(out).write([C]) == 1
    assert ids(out) == ["c"] and sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_an_append_keeps_every_version(tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    JsonlSink(out, append=True).write([A, B])
    JsonlSink(out, append=True).write([A])
    assert ids(out) == ["a", "b", "a"]


def test_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert JsonlSink("-").write([A]) == 1
    assert json.loads(capsys.readouterr().out) == A


@pytest.mark.parametrize(("append", "verb"), [(False, "write"), (True, "append")])
def test_an_unwritable_file_is_a_sink_error(tmp_path: Path, append: bool, verb: str) -> None:
    with pytest.raises(SinkError, match=f"cannot {verb} findings"):
        JsonlSink(tmp_path, append=append).write([A])  # a directory, not a file
