"""Deterministic synthetic security scenarios: raw device logs plus the ground truth.

`generate(out_dir, topology_path=...)` reads an asset topology, casts its assets in a story
(an SSH brute force that succeeds and moves laterally, scans, sweeps, exploit attempts,
password spraying, sudo abuse, and known-good look-alikes that the topology must cut),
buries it in realistic noise and writes:

- `out_dir/logs/<host>/auth.log`, `kern.log` (RFC 3164 syslog as rsyslog writes it),
  `logs/<firewall>/asa.log` (Cisco ASA), `logs/<ids>/eve.json` (Suricata EVE),
  `logs/<web host>/access.log` (Apache combined);
- `out_dir/expected.yaml`: one expectation per story (rule, outcome raised|cut|none, entity).

Everything random comes from `random.Random(seed)`: the same seed gives byte-identical files,
another seed another story (IPs, users, victims, times). Also runnable as
`python -m secops.synth OUT_DIR [--seed N] [--hours H] [--topology PATH]`.
"""

from secops.synth.generator import DEFAULT_START, Expectation, Scenario, generate

__all__ = ["DEFAULT_START", "Expectation", "Scenario", "generate"]
