"""Paths and small helpers shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from secops.normalise import ParseReport

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data next to the repository (SECOPS_TEST_SHARED_DATA points elsewhere, e.g. at a
#: missing folder to see which tests skip without it)
SHARED_DATA = Path(
    os.environ.get("SECOPS_TEST_SHARED_DATA") or (REPO / ".." / "shared" / "data")
).resolve()
EXAMPLE_TOPOLOGY = REPO / "topology" / "example"


def shared(*parts: str) -> Path:
    """A file under ../shared/data. When it is absent the test skips with the path, except under
    CI (CI set) when the data was asked for (SECOPS_TEST_SHARED_DATA set) or the folder is there
    but incomplete: then it fails. A clean clone (what .ci/run runs on) has no ../shared/data
    beside it, so there its absence alone is a skip, printed by -rs."""
    path = SHARED_DATA.joinpath(*parts)
    if path.exists():
        return path
    reason = f"shared test data not present: {path}"
    if os.environ.get("CI") and (os.environ.get("SECOPS_TEST_SHARED_DATA") or SHARED_DATA.is_dir()):
        pytest.fail(f"{reason} (CI: {SHARED_DATA} was given or exists, so it must be complete)")
    pytest.skip(reason)


def read_events(inputs: list[str], report: ParseReport, **options: Any) -> pd.DataFrame:
    """Every input into one events frame, read serially (`options`: those of
    pipeline.iter_prepared, without a frontier): the reference of the parallel and chunked reads."""
    from secops.pipeline import iter_prepared
    from secops.steps import one_chunk

    return one_chunk(pd.concat(list(iter_prepared(inputs, report, **options)), ignore_index=True))


def spooled(root: Path) -> pd.DataFrame:
    """Every row of a spool's Parquet files as written (no window, no dedupe), read with pyarrow
    alone."""
    tables = [pq.read_table(p) for p in sorted(Path(root).rglob("*.parquet"))]
    if not tables:
        return pd.DataFrame({"event.id": [], "message": [], "source.port": []})
    return pa.concat_tables(tables, promote_options="default").to_pandas()
