"""Kibana saved objects for the findings index: the bundled NDJSON (kibana/ at the repository
root), export with another index pattern, and import through the saved objects API.

No click here; `secops/cli/kibana.py` is the command layer.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from secops.elastic import redact
from secops.errors import ConfigError, SecopsError

BUNDLED = Path(__file__).resolve().parents[1] / "kibana" / "secops-findings.ndjson"
DATA_VIEW_TYPE = "index-pattern"


class KibanaError(SecopsError):
    """Kibana refused or could not be reached."""


def load_objects(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The saved objects of an NDJSON file (default: the bundled one)."""
    file = Path(path) if path else BUNDLED
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read saved objects: {exc.strerror}", str(file)) from None
    objects = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            objects.append(json.loads(line))
        except ValueError as exc:
            raise ConfigError(f"invalid JSON: {exc}", str(file), n) from None
    return objects


def export_ndjson(pattern: str | None = None, path: str | Path | None = None) -> str:
    """The NDJSON text; `pattern` retitles the data view (e.g. 'myorg-findings-*')."""
    out = []
    for obj in load_objects(path):
        if pattern and obj.get("type") == DATA_VIEW_TYPE:
            obj = {**obj, "attributes": {**obj["attributes"], "title": pattern}}
        out.append(json.dumps(obj, sort_keys=True) + "\n")
    return "".join(out)


@dataclass(frozen=True)
class KibanaTarget:
    url: str
    space: str | None = None
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify_certs: bool = True
    ca_certs: str | None = None
    timeout: float = 30.0

    def endpoint(self) -> str:
        parts = urlsplit(self.url)
        base = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl().rstrip("/")
        space = f"/s/{self.space}" if self.space and self.space != "default" else ""
        return f"{base}{space}/api/saved_objects/_import?overwrite=true"

    def headers(self) -> dict[str, str]:
        headers = {"kbn-xsrf": "true"}
        parts = urlsplit(self.url)
        user = self.username or (unquote(parts.username) if parts.username else None)
        password = self.password if self.username else unquote(parts.password or "")
        if self.api_key:
            headers["Authorization"] = f"ApiKey {self.api_key}"
        elif user:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers


def multipart(ndjson: str, filename: str = "secops-findings.ndjson") -> tuple[bytes, str]:
    """A multipart/form-data body with one `file` part; returns (body, content type)."""
    boundary = f"secops-{uuid.uuid4().hex}"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n"
        ).encode()
        + ndjson.encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _tls_context(target: KibanaTarget) -> ssl.SSLContext | None:
    if not target.verify_certs:
        return ssl._create_unverified_context()  # noqa: S323
    if target.ca_certs:
        try:
            return ssl.create_default_context(cafile=target.ca_certs)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot read the CA certificates: {exc}", target.ca_certs) from None
    return None


def import_objects(target: KibanaTarget, ndjson: str) -> dict[str, Any]:
    """POST the objects to the saved objects import API (overwrite); raises on any failure."""
    body, content_type = multipart(ndjson)
    request = urllib.request.Request(
        target.endpoint(),
        data=body,
        method="POST",
        headers={**target.headers(), "Content-Type": content_type},
    )
    context = _tls_context(target)
    where = redact(target.url)
    try:
        with urllib.request.urlopen(request, timeout=target.timeout, context=context) as resp:
            result = json.loads(resp.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", errors="replace")[:300]
        raise KibanaError(
            f"Kibana at {where} refused the import: HTTP {exc.code}: {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KibanaError(f"cannot reach Kibana at {where}: {reason}") from None
    except ValueError:
        raise KibanaError(f"Kibana at {where} answered with something that is not JSON") from None
    if not result.get("success"):
        errors = [
            f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type', e.get('error'))}"
            for e in result.get("errors", [])
        ]
        raise KibanaError(f"Kibana at {where} did not import everything: {'; '.join(errors)}")
    return result
