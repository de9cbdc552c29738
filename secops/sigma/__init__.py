"""Sigma rules and Sigma correlation rules, run natively on the correlate step's detectors.

pySigma parses and validates; `mapping.yaml` maps logsources and field names (pySigma
processing pipelines); `compile` turns the parsed condition tree into vectorised masks;
`translate` builds our `Rule`s; `overlay` adds topology clauses and severity by id or tag.

Public surface: `secops.sigma.load.load_sigma` (files -> rules + a verdict per Sigma rule) and
`secops.sigma.sniff.sniff` (is this file Sigma?). The package import stays light: pySigma is
imported only when Sigma files are loaded.
"""
