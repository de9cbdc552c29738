"""`generate()`: read the topology, tell the story, add the noise, write the files.

Everything random comes from one `random.Random(seed)`, drawn in a fixed order, so the same
seed, topology and options give byte-identical files.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

from secops.topology import load_topology

from .content import DEFAULT_START
from .noise import add_noise
from .story import tell_story
from .world import Expectation, Scenario, World

__all__ = ["DEFAULT_START", "Expectation", "Scenario", "generate"]

# ------------------------------------------------------------------------------------------
# entry point


def _yaml_expectations(
    seed: int, start: datetime, end: datetime, topology_path: str, expected: list[Expectation]
) -> str:
    head = {
        "seed": seed,
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
        "topology": str(topology_path),
    }
    text = (
        "# Ground truth for the synthetic scenario (secops.synth). outcome: raised | cut | none.\n"
    )
    text += yaml.safe_dump(head, sort_keys=False)
    text += "expectations:\n"
    for e in expected:
        line = yaml.safe_dump(
            e.to_dict(), default_flow_style=True, sort_keys=False, width=10**6
        ).strip()
        text += f"  - {line}\n"
    return text


def generate(
    out_dir: Path,
    *,
    topology_path: Path,
    seed: int = 7,
    start: datetime = DEFAULT_START,
    hours: float = 6,
    noise_per_hour: int = 2000,
    rfc3164: bool = True,
) -> Scenario:
    """Write `out_dir/logs/<host>/...` and `out_dir/expected.yaml`; return the scenario."""
    out_dir, topology_path = Path(out_dir), Path(topology_path)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.astimezone(UTC)
    topo = load_topology(topology_path)
    rng = random.Random(seed)
    g = World(topo, rng, start, hours, rfc3164)
    add_noise(g, tell_story(g), noise_per_hour)

    logs = out_dir / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    files: list[Path] = []
    counts: dict[str, int] = {}
    for rel in sorted(g.out.files):
        entries = sorted(g.out.files[rel], key=lambda e: (e[0], e[1]))
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for _, _, line in entries), encoding="utf-8")
        files.append(path)
        counts[rel] = len(entries)
    topo_ref = topology_path.as_posix()
    (out_dir / "expected.yaml").write_text(
        _yaml_expectations(seed, start, g.end, topo_ref, g.expected), encoding="utf-8"
    )
    return Scenario(
        seed, start, g.end, list(g.expected), files, sum(counts.values()), cast=dict(g.cast)
    )
