"""The findings index in Elasticsearch: a composable template for `secops-findings-*`, a first
concrete index and a write alias; `setup` (idempotent) and `status`.

Types follow ECS (ip, keyword, date, float). `finding.topology` holds free-form answers: only
the entity fields dashboards use (`sources`/`targets` asset, zone, criticality, tags) are
mapped; everything else under it is kept in `_source` but not indexed (`dynamic: false`), so
no answer can ever cause a mapping conflict. `finding.key` and `finding.evidence.steps` are
`flattened` for the same reason. Object arrays are `object`, not `nested`: Kibana's editors
cannot aggregate nested fields, and no panel needs per-element correlation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from secops.elastic import client_errors, describe
from secops.errors import ConfigError, SinkError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

TEMPLATE_VERSION = 1
KW = {"type": "keyword", "ignore_above": 1024}
TEXT = {"type": "text"}
DATE = {"type": "date"}
IP = {"type": "ip"}
LONG = {"type": "long"}
FLOAT = {"type": "float"}
BOOL = {"type": "boolean"}


def _obj(**props: Any) -> dict[str, Any]:
    return {"properties": props}


def _entity() -> dict[str, Any]:
    """sources[] / targets[] of finding.topology: only the fields worth aggregating."""
    return {
        "type": "object",
        "dynamic": False,
        "properties": {
            "ip": IP,
            "asset": KW,
            "zone": KW,
            "locality": KW,
            "criticality": KW,
            "tags": KW,
            "port": LONG,
            "transport": KW,
        },
    }


FINDING = _obj(
    id=KW,
    title=KW,
    severity=KW,
    rule_severity=KW,
    confidence=FLOAT,
    status=KW,
    first_seen=DATE,
    triage={"type": "flattened"},
    signature=KW,
    suppressed=BOOL,
    suppression=_obj(reason=KW),
    escalations=KW,
    runbook=TEXT,
    key={"type": "flattened"},
    evidence=_obj(count=LONG, event_ids=KW, steps={"type": "flattened"}),
    risk={"type": "object", "dynamic": False, "properties": {"criticality": KW, "severity": KW}},
    topology={
        "type": "object",
        "dynamic": False,
        "properties": {"sources": _entity(), "targets": _entity(), "truncated": BOOL},
    },
)

MAPPINGS: dict[str, Any] = {
    "dynamic": True,
    "date_detection": False,
    "dynamic_templates": [{"strings_as_keyword": {"match_mapping_type": "string", "mapping": KW}}],
    "properties": {
        "@timestamp": DATE,
        "message": TEXT,
        "event": _obj(
            kind=KW,
            start=DATE,
            end=DATE,
            ingested=DATE,
            risk_score=FLOAT,
            category=KW,
            dataset=KW,
        ),
        "rule": _obj(id=KW, name=KW, description=TEXT, ruleset=KW, type=KW),
        "threat": _obj(framework=KW, tactic=_obj(id=KW, name=KW), technique=_obj(id=KW, name=KW)),
        "finding": FINDING,
        "related": _obj(ip=IP, user=KW, hosts=KW),
        "source": _obj(ip=IP, port=LONG, domain=KW),
        "destination": _obj(ip=IP, port=LONG, domain=KW),
        "network": _obj(transport=KW, protocol=KW),
        "user": _obj(name=KW, effective=_obj(name=KW)),
        "host": _obj(name=KW),
        "process": _obj(name=KW),
        "url": _obj(original={**KW, "ignore_above": 8191}),
    },
}


def template_body(pattern: str) -> dict[str, Any]:
    return {
        "index_patterns": [pattern],
        "priority": 200,
        "version": TEMPLATE_VERSION,
        "_meta": {"managed_by": "secops", "description": "secops findings (nested ECS)"},
        "template": {
            "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            "mappings": MAPPINGS,
        },
    }


def setup(client: Elasticsearch, alias: str = "secops-findings") -> dict[str, Any]:
    """Put the template, create `<alias>-000001` with the write alias if no index has it.

    Idempotent: a second call changes nothing but the template (same body).
    """
    pattern = f"{alias}-*"
    try:
        client.indices.put_index_template(name=alias, **template_body(pattern))
        created = False
        if not client.indices.exists_alias(name=alias):
            client.indices.create(
                index=f"{alias}-000001", aliases={alias: {"is_write_index": True}}
            )
            created = True
        client.cluster.health(index=alias, wait_for_status="yellow", timeout="30s")
    except client_errors() as exc:
        raise SinkError(f"cannot set up the findings index: {describe(exc)}") from None
    return {"template": alias, "pattern": pattern, "alias": alias, "created_index": created}


def status(client: Elasticsearch, alias: str = "secops-findings") -> dict[str, Any]:
    """Cluster health, template version, indices behind the alias and their document counts."""
    try:
        health = client.cluster.health()
        tpl = client.options(ignore_status=404).indices.get_index_template(name=alias)
        aliases = client.options(ignore_status=404).indices.get_alias(name=alias)
        stats = client.options(ignore_status=404).cat.indices(
            index=f"{alias}-*", format="json", h="index,docs.count,store.size,health"
        )
    except client_errors() as exc:
        raise SinkError(f"cannot read the cluster status: {describe(exc)}") from None
    templates = tpl.body.get("index_templates", []) if tpl.meta.status == 200 else []
    writes = [
        name
        for name, spec in (aliases.body.items() if aliases.meta.status == 200 else [])
        if spec.get("aliases", {}).get(alias, {}).get("is_write_index")
    ]
    rows: list[dict[str, Any]] = stats.body if stats.meta.status == 200 else []  # type: ignore[assignment]
    return {
        "cluster": health["cluster_name"],
        "health": health["status"],
        "nodes": health["number_of_nodes"],
        "template": templates[0]["index_template"].get("version") if templates else None,
        "template_current": bool(templates)
        and templates[0]["index_template"].get("version") == TEMPLATE_VERSION,
        "alias": alias,
        "write_index": writes[0] if writes else None,
        "indices": [
            {"index": r["index"], "docs": int(r["docs.count"] or 0), "health": r["health"]}
            for r in rows
        ],
        "findings": sum(int(r["docs.count"] or 0) for r in rows),
    }


def rollover(
    client: Elasticsearch,
    alias: str = "secops-findings",
    *,
    max_docs: int | None = None,
    max_size: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Roll the write alias over to `<alias>-00000N+1` when its write index holds `max_docs`
    documents or a primary shard of `max_size` (e.g. `50gb`); nothing happens below both.

    The rollover API with conditions, which is what ILM's rollover action calls: the integ-test
    distribution has no ILM, and a cluster with ILM can use a policy on the template instead.
    """
    conditions: dict[str, Any] = {}
    if max_docs:
        conditions["max_docs"] = max_docs
    if max_size:
        conditions["max_primary_shard_size"] = max_size
    if not conditions:
        raise ConfigError(
            "a rollover needs a limit: --max-docs / --max-size "
            "(es.rollover_max_docs / es.rollover_max_size in secops.yaml)"
        )
    try:
        resp = client.indices.rollover(alias=alias, conditions=conditions, dry_run=dry_run)
    except client_errors() as exc:
        raise SinkError(f"cannot roll over {alias}: {describe(exc)}") from None
    return {
        "alias": alias,
        "rolled_over": bool(resp["rolled_over"]),
        "dry_run": bool(resp["dry_run"]),
        "old_index": resp["old_index"],
        "new_index": resp["new_index"],
        "conditions": dict(resp["conditions"]),
    }
