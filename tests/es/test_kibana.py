"""The Kibana saved objects, right by construction (no Kibana runs here):

- the NDJSON is well-formed for Kibana 9 import (types, migration versions, references);
- every field a panel uses exists in the index template with an aggregatable type
  (asked of the real cluster with _field_caps on findings indexed from the bundled sample);
- each Lens panel's aggregation, run as an Elasticsearch query, returns the buckets computed
  by hand from the same findings; the saved search returns the latest high/critical ones;
- `secops kibana import` sends what the saved objects import API expects (a local server checks).
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from secops.cli.main import cli
from secops.kibana import BUNDLED, load_objects
from secops.pipeline import run
from secops.sink.elasticsearch import ElasticsearchSink
from tests.es.helpers import SAMPLE, YEAR, drop_alias, settings
from tests.helpers import EXAMPLE_TOPOLOGY

OBJECTS = load_objects()
#: the bundled file read without the module's reader: the oracle of export and import
FILE_OBJECTS = [json.loads(x) for x in BUNDLED.read_text(encoding="utf-8").splitlines() if x]
BY_ID = {o["id"]: o for o in OBJECTS}
LENS = [o for o in OBJECTS if o["type"] == "lens"]
SEARCH = next(o for o in OBJECTS if o["type"] == "search")
OPERATIONS = {"count", "sum", "terms", "date_histogram"}
AGG_TYPES = {
    "terms": {"keyword", "ip", "boolean"},
    "date_histogram": {"date"},
    "sum": {"float", "long", "double", "scaled_float"},
}


def version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def layer(obj: dict[str, Any]) -> dict[str, Any]:
    (only,) = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    return only


# --- the file itself -------------------------------------------------------------------------


def test_ndjson_is_well_formed_for_kibana_9():
    lines = BUNDLED.read_text().splitlines()
    assert len(lines) == len(OBJECTS) == 9
    assert Counter(o["type"] for o in OBJECTS) == {
        "index-pattern": 1,
        "lens": 6,
        "search": 1,
        "dashboard": 1,
    }
    for obj in OBJECTS:
        assert set(obj) >= {"type", "id", "attributes", "references", "coreMigrationVersion"}
        # Kibana 9 imports objects of the same or an earlier version and migrates them
        assert version(obj["coreMigrationVersion"]) <= (9, 2, 0)
        assert version(obj["typeMigrationVersion"]) <= (9, 2, 0)
        for ref in obj["references"]:
            assert ref["id"] in BY_ID and BY_ID[ref["id"]]["type"] == ref["type"], ref
    view = BY_ID["secops-findings"]["attributes"]
    assert view["title"] == "secops-findings-*" and view["timeFieldName"] == "@timestamp"
    assert len({o["id"] for o in OBJECTS}) == len(OBJECTS)


def test_lens_panels_are_consistent():
    for obj in LENS:
        state = obj["attributes"]["state"]
        lay = layer(obj)
        assert sorted(lay["columns"]) == sorted(lay["columnOrder"])
        assert {c["operationType"] for c in lay["columns"].values()} <= OPERATIONS
        vis = state["visualization"]
        used = set()
        for v in vis.get("layers", [vis]):
            used |= {v.get("xAccessor"), v.get("splitAccessor"), *v.get("accessors", [])}
            used |= {c["columnId"] for c in v.get("columns", [])}
            assert v["layerId"] == "layer1"
        assert used - {None} == set(lay["columns"]), obj["id"]
        assert obj["references"] == [
            {
                "type": "index-pattern",
                "id": "secops-findings",
                "name": "indexpattern-datasource-layer-layer1",
            }
        ]


def test_dashboard_panels_resolve():
    dash = BY_ID["secops-findings-overview"]
    panels = json.loads(dash["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dash["references"]}
    assert len(panels) == 7
    for p in panels:
        ref = refs[f"{p['panelIndex']}:{p['panelRefName']}"]
        assert ref["type"] == p["type"] and ref["id"] in BY_ID
        grid = p["gridData"]
        assert grid["x"] + grid["w"] <= 48 and grid["i"] == p["panelIndex"]
    assert {r["id"] for r in refs.values()} == {o["id"] for o in [*LENS, SEARCH]}


# --- against the real cluster ------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexed(es_url: str) -> Iterator[tuple[Elasticsearch, str, list[dict[str, Any]]]]:
    findings = run([str(SAMPLE)], topology_path=str(EXAMPLE_TOPOLOGY), year=YEAR).findings
    alias = f"secops-test-{uuid.uuid4().hex[:10]}"
    client = Elasticsearch(es_url, request_timeout=30)
    ElasticsearchSink(settings(es_url, alias), client=client).write(findings)
    client.indices.refresh(index=f"{alias}-*")
    try:
        yield client, alias, findings
    finally:
        drop_alias(client, alias)
        client.close()


def panel_fields() -> dict[str, set[str]]:
    """field -> the operations that use it, over every panel (and the search's sort)."""
    used: dict[str, set[str]] = defaultdict(set)
    for obj in LENS:
        for col in layer(obj)["columns"].values():
            if col.get("sourceField") and col["sourceField"] != "___records___":
                used[col["sourceField"]].add(col["operationType"])
    for field, _ in SEARCH["attributes"]["sort"]:
        used[field].add("sort")
    return used


def test_every_panel_field_is_aggregatable_in_the_template(indexed):
    client, alias, _ = indexed
    used = panel_fields()
    caps = client.field_caps(index=f"{alias}-*", fields=sorted(used))["fields"]
    for field, ops in used.items():
        assert field in caps, f"{field} is not in the index"
        ((kind, cap),) = caps[field].items()  # one type across the indices: no conflict
        assert cap["aggregatable"], f"{field} ({kind}) is not aggregatable"
        for op in ops - {"sort"}:
            assert kind in AGG_TYPES[op], f"{field} is {kind}, {op} needs {AGG_TYPES[op]}"
    shown = SEARCH["attributes"]["columns"]
    caps = client.field_caps(index=f"{alias}-*", fields=shown)["fields"]
    assert set(shown) <= set(caps)


def kql(text: str) -> dict[str, Any]:
    """The KQL forms the panels use: `f : v` and `f : ("a" or "b")` joined by `and`."""
    if not text:
        return {"match_all": {}}
    clauses = []
    for part in re.split(r"\s+and\s+", text):
        field, value = (s.strip() for s in part.split(":", 1))
        if value.startswith("("):
            values = [v.strip().strip('"') for v in value.strip("()").split(" or ")]
            clauses.append({"terms": {field: values}})
        else:
            clauses.append({"term": {field: value.strip('"')}})
    return {"bool": {"filter": clauses}}


def lens_aggs(obj: dict[str, Any]) -> dict[str, Any]:
    """The aggregation Lens builds for a formBased layer: buckets nested in column order."""
    lay = layer(obj)
    cols = lay["columns"]
    metrics = {
        cid: {"sum": {"field": c["sourceField"]}}
        for cid, c in cols.items()
        if c["operationType"] == "sum"
    }
    aggs: dict[str, Any] = metrics
    for cid in reversed([c for c in lay["columnOrder"] if cols[c]["isBucketed"]]):
        col = cols[cid]
        if col["operationType"] == "date_histogram":
            body = {"date_histogram": {"field": col["sourceField"], "fixed_interval": "1h"}}
        else:
            p = col["params"]
            by = p["orderBy"]
            order = (
                {"_key": "asc"}
                if by["type"] == "alphabetical"
                else {
                    "_count"
                    if cols[by["columnId"]]["operationType"] == "count"
                    else by["columnId"]: p["orderDirection"]
                }
            )
            body = {"terms": {"field": col["sourceField"], "size": p["size"], "order": order}}
            if p["missingBucket"]:
                body["terms"]["missing"] = "__missing__"
        if aggs:
            body["aggs"] = aggs
        aggs = {cid: body}
    return aggs


def flatten_buckets(aggs: dict[str, Any], resp: dict[str, Any]) -> dict[tuple, float]:
    """{(bucket keys...): count or metric} from a nested aggregation response."""
    out: dict[tuple, float] = {}

    def walk(level: dict[str, Any], node: dict[str, Any], keys: tuple) -> None:
        ((name, spec),) = [(k, v) for k, v in level.items() if "sum" not in v]
        metric = next((k for k, v in spec.get("aggs", {}).items() if "sum" in v), None)
        for b in node[name]["buckets"]:
            key = b.get("key_as_string", b["key"])
            inner = {k: v for k, v in spec.get("aggs", {}).items() if "sum" not in v}
            if inner:
                walk(inner, b, (*keys, key))
            else:
                out[(*keys, key)] = round(b[metric]["value"], 3) if metric else b["doc_count"]

    walk(aggs, resp, ())
    return out


def expected(panel: str, findings: list[dict[str, Any]]) -> dict[tuple, float]:
    raised = [f for f in findings if not f["finding"]["suppressed"]]
    targets = lambda f, k: {t[k] for t in f["finding"]["topology"].get("targets", []) if t.get(k)}  # noqa: E731
    if panel == "secops-findings-over-time":
        hour = lambda f: pd.Timestamp(f["@timestamp"]).floor("h").strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
        return dict(Counter((hour(f), f["finding"]["severity"]) for f in raised))
    if panel == "secops-top-rules":
        return {(k,): v for k, v in Counter(f["rule"]["id"] for f in raised).items()}
    if panel == "secops-top-sources":
        return {
            (k,): v
            for k, v in Counter(
                f["source"]["ip"] for f in raised if f.get("source", {}).get("ip")
            ).items()
        }
    if panel == "secops-targeted-assets":
        risk: dict[tuple, float] = defaultdict(float)
        for f in raised:
            for asset in targets(f, "asset"):
                risk[(asset,)] += f["event"]["risk_score"]
        return {k: round(v, 3) for k, v in risk.items()}
    if panel == "secops-raised-vs-cut":
        return dict(
            Counter(
                (
                    str(f["finding"]["suppressed"]).lower(),
                    f["finding"]["suppression"].get("reason", "__missing__"),
                )
                for f in findings
            )
        )
    if panel == "secops-findings-per-zone":
        return dict(Counter((z,) for f in raised for z in targets(f, "zone")))
    raise AssertionError(panel)


@pytest.mark.parametrize("panel", [o["id"] for o in LENS])
def test_each_panel_aggregation_returns_the_expected_buckets(indexed, panel):
    client, alias, findings = indexed
    obj = BY_ID[panel]
    aggs = lens_aggs(obj)
    query = kql(obj["attributes"]["state"]["query"]["query"])
    resp = client.search(index=alias, query=query, aggs=aggs, size=0)
    got = flatten_buckets(aggs, resp["aggregations"])
    if panel == "secops-findings-over-time":
        got = {k: v for k, v in got.items() if v}  # empty hours between findings
    want = expected(panel, findings)
    lay = layer(obj)
    first = lay["columns"][lay["columnOrder"][0]]
    if len(next(iter(want))) == 1 and first["operationType"] == "terms":
        # top N: ordered by the metric, ties by key (what Elasticsearch does)
        top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[: first["params"]["size"]]
        want = dict(top)
    assert got == want
    assert len(want) >= 2, "the sample should exercise every panel"


def test_the_saved_search_lists_the_latest_high_and_critical(indexed):
    client, alias, findings = indexed
    source = json.loads(SEARCH["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    ((field, direction),) = SEARCH["attributes"]["sort"]
    resp = client.search(
        index=alias, query=kql(source["query"]["query"]), sort=[{field: direction}], size=100
    )
    hits = [h["_source"] for h in resp["hits"]["hits"]]
    want = {
        f["finding"]["id"]
        for f in findings
        if not f["finding"]["suppressed"] and f["finding"]["severity"] in ("high", "critical")
    }
    assert {h["finding"]["id"] for h in hits} == want and want
    stamps = [h["@timestamp"] for h in hits]
    assert stamps == sorted(stamps, reverse=True)
    assert all(h["finding"]["runbook"] for h in hits)


# --- export and import ---------------------------------------------------------------------------


def test_export_writes_the_bundled_objects(tmp_path):
    out = tmp_path / "objects.ndjson"
    res = CliRunner().invoke(
        cli, ["kibana", "export", "--out", str(out), "--index-pattern", "acme-findings-*"]
    )
    assert res.exit_code == 0, res.output
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    assert [o["id"] for o in objects] == [o["id"] for o in FILE_OBJECTS]
    assert objects[0]["attributes"]["title"] == "acme-findings-*"
    assert FILE_OBJECTS[0]["attributes"]["title"] != "acme-findings-*"
    assert objects[1:] == FILE_OBJECTS[1:]
    stdout = CliRunner().invoke(cli, ["kibana", "export"]).stdout
    assert [json.loads(line) for line in stdout.splitlines()] == FILE_OBJECTS


class FakeKibana(BaseHTTPRequestHandler):
    """Records the request and answers like Kibana's saved objects import API."""

    seen: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        parts = [
            (
                p.get_param("name", header="content-disposition"),
                p.get_filename(),
                p.get_payload(decode=True),
            )
            for p in message.iter_parts()
        ]
        url = urlsplit(self.path)
        FakeKibana.seen.append(
            {
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": dict(self.headers),
                "parts": parts,
            }
        )
        objects = [json.loads(line) for line in parts[0][2].decode().splitlines()] if parts else []
        reply = {
            "success": True,
            "successCount": len(objects),
            "successResults": [{"type": o["type"], "id": o["id"]} for o in objects],
        }
        if FakeKibana.status != 200:
            reply = {"statusCode": FakeKibana.status, "error": "Unauthorized", "message": "no"}
        data = json.dumps(reply).encode()
        self.send_response(FakeKibana.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kibana_url() -> Iterator[str]:
    FakeKibana.seen, FakeKibana.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKibana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_import_posts_the_saved_objects_api_request(kibana_url):
    res = CliRunner().invoke(
        cli,
        ["kibana", "import", "--url", kibana_url, "--space", "soc", "--json"],
        env={"SECOPS_KIBANA_API_KEY": "a2V5"},
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["successCount"] == 9
    (req,) = FakeKibana.seen
    assert req["path"] == "/s/soc/api/saved_objects/_import"
    assert req["query"] == {"overwrite": ["true"]}
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["kbn-xsrf"] == "true" and headers["authorization"] == "ApiKey a2V5"
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    ((name, filename, payload),) = req["parts"]
    assert name == "file" and filename.endswith(".ndjson")
    assert [json.loads(line) for line in payload.decode().splitlines()] == FILE_OBJECTS


def test_import_failures_are_clear(kibana_url):
    FakeKibana.status = 401
    res = CliRunner().invoke(
        cli,
        ["kibana", "import", "--url", kibana_url.replace("http://", "http://admin:pw@")],
    )
    assert res.exit_code == 1
    assert "refused the import: HTTP 401" in res.stderr and "pw@" not in res.stderr
    sent = {k.lower(): v for k, v in FakeKibana.seen[0]["headers"].items()}
    assert sent["authorization"] == "Basic YWRtaW46cHc="  # admin:pw from the URL
    res = CliRunner().invoke(cli, ["kibana", "import", "--url", "http://127.0.0.1:9"])
    assert res.exit_code == 1 and "cannot reach Kibana at http://127.0.0.1:9" in res.stderr


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """An openssl certificate for 127.0.0.1 that is its own CA: (certificate, key)."""
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_import_over_https_checks_kibanas_certificate(tmp_path):
    FakeKibana.seen, FakeKibana.status = [], 200
    cert, key = self_signed(tmp_path, "kibana")
    other, _ = self_signed(tmp_path, "other")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKibana)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    env = {"SECOPS_KIBANA_API_KEY": "c2VjcmV0LWtpYmFuYS1rZXk="}
    try:
        ok = CliRunner().invoke(
            cli, ["kibana", "import", "--url", url, "--ca-certs", str(cert)], env=env
        )
        assert ok.exit_code == 0, ok.output
        assert len(FakeKibana.seen) == 1
        wrong = CliRunner().invoke(
            cli,
            ["kibana", "import", "--url", url],
            env={**env, "SECOPS_KIBANA_CA_CERTS": str(other)},
        )
        assert wrong.exit_code == 1 and len(FakeKibana.seen) == 1
        (line,) = wrong.stderr.strip().splitlines()
        assert f"cannot reach Kibana at {url}" in line and "CERTIFICATE_VERIFY_FAILED" in line
        assert "c2VjcmV0LWtpYmFuYS1rZXk" not in ok.output + wrong.output
    finally:
        server.shutdown()
        server.server_close()
