"""Writes kibana/secops-findings.ndjson: the data view, the Lens panels, the saved search and
the dashboard over the findings index. Run `python kibana/build.py` after changing a panel;
tests/es/test_kibana.py checks the file against the index template and a real cluster.

Objects use Kibana 8.8+ export formats (coreMigrationVersion 8.8.0); Kibana imports saved
objects from an earlier minor or the previous major and migrates them, so the file imports into
Kibana 9.x (the version matching Elasticsearch 9.2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "secops-findings.ndjson"
DATA_VIEW = "secops-findings"
PATTERN = "secops-findings-*"
CORE = "8.8.0"
LAYER = "layer1"
COUNT = {
    "label": "Findings",
    "dataType": "number",
    "operationType": "count",
    "isBucketed": False,
    "scale": "ratio",
    "sourceField": "___records___",
    "params": {"emptyAsNull": True},
}


def terms(field: str, label: str, size: int, order_by: str | None = "count", **extra: Any):
    order = {"type": "column", "columnId": order_by} if order_by else {"type": "alphabetical"}
    return {
        "label": label,
        "dataType": extra.get("data_type", "ip" if field.endswith(".ip") else "string"),
        "operationType": "terms",
        "scale": "ordinal",
        "sourceField": field,
        "isBucketed": True,
        "params": {
            "size": size,
            "orderBy": order,
            "orderDirection": "desc" if order_by else "asc",
            "otherBucket": False,
            "missingBucket": extra.get("missing", False),
            "parentFormat": {"id": "terms"},
        },
        "customLabel": True,
    }


def histogram(field: str = "@timestamp") -> dict[str, Any]:
    return {
        "label": field,
        "dataType": "date",
        "operationType": "date_histogram",
        "sourceField": field,
        "isBucketed": True,
        "scale": "interval",
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


def total(field: str, label: str) -> dict[str, Any]:
    return {
        "label": label,
        "dataType": "number",
        "operationType": "sum",
        "sourceField": field,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": True},
        "customLabel": True,
    }


def xy(series: str, x: str, metric: str, split: str | None = None) -> dict[str, Any]:
    layer = {
        "layerId": LAYER,
        "layerType": "data",
        "seriesType": series,
        "xAccessor": x,
        "accessors": [metric],
    }
    if split:
        layer["splitAccessor"] = split
    return {
        "legend": {"isVisible": True, "position": "right"},
        "valueLabels": "hide",
        "fittingFunction": "None",
        "preferredSeriesType": series,
        "layers": [layer],
    }


def table(columns: list[str]) -> dict[str, Any]:
    return {
        "layerId": LAYER,
        "layerType": "data",
        "columns": [{"columnId": c} for c in columns],
    }


def lens(oid: str, title: str, vis_type: str, vis: dict, columns: dict, query: str = ""):
    return {
        "type": "lens",
        "id": oid,
        "attributes": {
            "title": title,
            "description": "",
            "visualizationType": vis_type,
            "state": {
                "visualization": vis,
                "query": {"query": query, "language": "kuery"},
                "filters": [],
                "datasourceStates": {
                    "formBased": {
                        "layers": {
                            LAYER: {
                                "columns": columns,
                                "columnOrder": list(columns),
                                "incompleteColumns": {},
                                "sampling": 1,
                            }
                        }
                    }
                },
                "internalReferences": [],
                "adHocDataViews": {},
            },
        },
        "references": [
            {
                "type": "index-pattern",
                "id": DATA_VIEW,
                "name": f"indexpattern-datasource-layer-{LAYER}",
            }
        ],
        "coreMigrationVersion": CORE,
        "typeMigrationVersion": "8.9.0",
        "managed": False,
    }


def panels() -> list[dict[str, Any]]:
    raised = "finding.suppressed : false"
    return [
        lens(
            "secops-findings-over-time",
            "Findings over time by severity",
            "lnsXY",
            xy("bar_stacked", "time", "count", "severity"),
            {
                "time": histogram(),
                "severity": terms("finding.severity", "Severity", 4),
                "count": COUNT,
            },
            raised,
        ),
        lens(
            "secops-top-rules",
            "Top rules",
            "lnsXY",
            xy("bar_horizontal", "rule", "count"),
            {"rule": terms("rule.id", "Rule", 10), "count": COUNT},
            raised,
        ),
        lens(
            "secops-top-sources",
            "Top sources",
            "lnsXY",
            xy("bar_horizontal", "source", "count"),
            {"source": terms("source.ip", "Source", 10), "count": COUNT},
            raised,
        ),
        lens(
            "secops-targeted-assets",
            "Most targeted assets by risk",
            "lnsXY",
            xy("bar_horizontal", "asset", "risk"),
            {
                "asset": terms("finding.topology.targets.asset", "Asset", 10, "risk"),
                "risk": total("event.risk_score", "Total risk"),
            },
            raised,
        ),
        lens(
            "secops-raised-vs-cut",
            "Raised vs cut, with the cut reasons",
            "lnsDatatable",
            table(["suppressed", "reason", "count"]),
            {
                "suppressed": terms("finding.suppressed", "Cut", 2, data_type="boolean"),
                "reason": terms("finding.suppression.reason", "Reason", 20, missing=True),
                "count": COUNT,
            },
        ),
        lens(
            "secops-findings-per-zone",
            "Findings per zone",
            "lnsXY",
            xy("bar_horizontal", "zone", "count"),
            {"zone": terms("finding.topology.targets.zone", "Target zone", 10), "count": COUNT},
            raised,
        ),
    ]


def latest_search() -> dict[str, Any]:
    source = {
        "query": {
            "query": 'finding.severity : ("high" or "critical") and finding.suppressed : false',
            "language": "kuery",
        },
        "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    }
    return {
        "type": "search",
        "id": "secops-latest-high-critical",
        "attributes": {
            "title": "Latest high and critical findings",
            "description": "Raised findings of severity high or critical, newest first, with their runbook.",
            "columns": [
                "finding.severity",
                "event.risk_score",
                "rule.name",
                "source.ip",
                "destination.ip",
                "host.name",
                "finding.runbook",
            ],
            "sort": [["@timestamp", "desc"]],
            "grid": {},
            "hideChart": True,
            "isTextBasedQuery": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)},
        },
        "references": [
            {
                "type": "index-pattern",
                "id": DATA_VIEW,
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            }
        ],
        "coreMigrationVersion": CORE,
        "typeMigrationVersion": "8.0.0",
        "managed": False,
    }


def dashboard(objects: list[dict[str, Any]]) -> dict[str, Any]:
    layout = [(0, 0, 48, 12), (0, 12, 24, 14), (24, 12, 24, 14), (0, 26, 24, 14),
              (24, 26, 24, 14), (0, 40, 24, 14), (0, 54, 48, 18)]  # fmt: skip
    entries, refs = [], []
    for n, (obj, (x, y, w, h)) in enumerate(zip(objects, layout, strict=True), start=1):
        pid = f"p{n}"
        entries.append(
            {
                "type": obj["type"],
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": pid},
                "panelIndex": pid,
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{pid}",
            }
        )
        refs.append({"type": obj["type"], "id": obj["id"], "name": f"{pid}:panel_{pid}"})
    return {
        "type": "dashboard",
        "id": "secops-findings-overview",
        "attributes": {
            "title": "secops: findings overview",
            "description": "Findings from secops correlate: trend, rules, sources, assets, cuts, zones.",
            "panelsJSON": json.dumps(entries),
            "optionsJSON": json.dumps(
                {"useMargins": True, "syncColors": False, "hidePanelTitles": False}
            ),
            "timeRestore": True,
            "timeFrom": "now-7d",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 60000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    {"query": {"query": "", "language": "kuery"}, "filter": []}
                )
            },
            "version": 1,
        },
        "references": refs,
        "coreMigrationVersion": CORE,
        "typeMigrationVersion": "8.9.0",
        "managed": False,
    }


def data_view() -> dict[str, Any]:
    return {
        "type": "index-pattern",
        "id": DATA_VIEW,
        "attributes": {"title": PATTERN, "name": "secops findings", "timeFieldName": "@timestamp"},
        "references": [],
        "coreMigrationVersion": CORE,
        "typeMigrationVersion": "8.0.0",
        "managed": False,
    }


def objects() -> list[dict[str, Any]]:
    shown = [*panels(), latest_search()]
    return [data_view(), *shown, dashboard(shown)]


def main() -> None:
    OUT.write_text("".join(json.dumps(o, sort_keys=True) + "\n" for o in objects()))
    print(OUT)


if __name__ == "__main__":
    main()
