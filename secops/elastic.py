"""Connection settings and the client for an Elasticsearch cluster (used by a source and a sink).

Settings come from the `es:` mapping of secops.yaml, then SECOPS_ES_* variables, then flags.
Secrets (API key, password, credentials inside a URL) never appear in repr, logs or errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secops.errors import ConfigError, SecopsError

#: settings key -> environment variable
ENV = {
    "urls": "SECOPS_ES_URL",
    "api_key": "SECOPS_ES_API_KEY",
    "username": "SECOPS_ES_USERNAME",
    "password": "SECOPS_ES_PASSWORD",
    "ca_certs": "SECOPS_ES_CA_CERTS",
    "index": "SECOPS_ES_INDEX",
}
if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

_USERINFO = re.compile(r"//[^/@\s]*@")


@dataclass(frozen=True)
class EsSettings:
    urls: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    verify_certs: bool = True
    request_timeout: float = 30.0
    retries: int = 3
    retry_backoff: float = 0.5
    index: str = "secops-findings"
    dead_letter: str | None = None
    rollover_max_docs: int | None = None  # the sink rolls the alias over past these
    rollover_max_size: str | None = None  # e.g. "50gb" (largest primary shard)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str | None = None) -> EsSettings:
        known = {f.name for f in fields(cls)} | {"url"}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ConfigError(
                f"unknown es setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                file,
            )
        values = {k: v for k, v in doc.items() if k != "url" and v is not None}
        urls = doc.get("urls", doc.get("url"))
        if urls is not None:
            values["urls"] = _urls(urls)
        try:
            return replace(cls(), **values)
        except TypeError as exc:  # pragma: no cover - dataclass guards the names above
            raise ConfigError(f"invalid es settings: {exc}", file) from None

    @classmethod
    def resolve(
        cls,
        config: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
        environ: Mapping[str, str] | None = None,
        file: str | None = None,
    ) -> EsSettings:
        """config file `es:` < SECOPS_ES_* environment < an explicit URL flag."""
        doc = dict(config or {})
        env = os.environ if environ is None else environ
        for key, var in ENV.items():
            if env.get(var):
                doc[key] = env[var]
        if url:
            doc["urls"] = url
        base = Path(file).resolve().parent if file else None
        for key in ("ca_certs", "dead_letter"):  # relative to the config file, like its paths
            if base and isinstance(config, Mapping) and isinstance(config.get(key), str):
                if doc.get(key) == config[key]:
                    doc[key] = str(base / config[key])
        return cls.from_dict(doc, file)

    @property
    def configured(self) -> bool:
        return bool(self.urls)

    @property
    def where(self) -> str:
        """The URLs without credentials, for messages."""
        return ", ".join(redact(u) for u in self.urls)


def _urls(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(u).strip().rstrip("/") for u in items if str(u).strip())


def redact(text: str) -> str:
    """Remove `user:password@` from every URL in text."""
    return _USERINFO.sub("//***@", text)


def connect(settings: EsSettings, error: type[SecopsError] = SecopsError) -> Elasticsearch:
    """A client with retries and back-off on connection errors, timeouts, 429 and 502-504."""
    from elasticsearch import Elasticsearch

    if not settings.configured:
        raise ConfigError("no Elasticsearch URL: give --es-url, SECOPS_ES_URL or es.urls")
    auth: dict[str, Any] = {}
    if settings.api_key:
        auth["api_key"] = settings.api_key
    elif settings.username:
        auth["basic_auth"] = (settings.username, settings.password or "")
    if settings.ca_certs:
        auth["ca_certs"] = settings.ca_certs
    try:
        return Elasticsearch(
            list(settings.urls),
            verify_certs=settings.verify_certs,
            request_timeout=settings.request_timeout,
            max_retries=settings.retries,
            retry_on_timeout=True,
            retry_on_status=(429, 502, 503, 504),
            retry_backoff_base=settings.retry_backoff if settings.retry_backoff > 0 else 0,
            retry_backoff_cap=max(settings.retry_backoff * 16, 0),
            **auth,
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid Elasticsearch settings: {redact(str(exc))}") from None


def client_errors() -> tuple[type[Exception], ...]:
    """The client's exception roots (imported lazily: the client is slow to import)."""
    from elasticsearch import ApiError, TransportError

    return (ApiError, TransportError)


def describe(exc: BaseException) -> str:
    """A one-line, credential-free reason for a client exception."""
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "meta", None), "status", None
    )
    body = getattr(exc, "body", None)
    reason = None
    if isinstance(body, Mapping):
        err = body.get("error")
        reason = err.get("reason") if isinstance(err, Mapping) else err
    text = reason or getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = redact(str(text)).splitlines()[0][:300]
    if isinstance(status, int) and status > 0:
        hint = _HINTS.get(status)
        if hint and not reason:  # a HEAD request's refusal has no body
            return f"HTTP {status}: {hint}"
        return f"HTTP {status}: {text}" + (f" ({hint})" if hint else "")
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return f"{text} ({_TLS_HINT})"
    return text


_HINTS = {
    401: "authentication refused: the API key or user/password is wrong, expired or revoked; "
    "check SECOPS_ES_API_KEY, SECOPS_ES_USERNAME/SECOPS_ES_PASSWORD or es: in secops.yaml",
    403: "the credentials lack a privilege on this cluster or index; "
    "see the secops_writer role in the README",
}
_TLS_HINT = (
    "the server's certificate is not signed by the CA in SECOPS_ES_CA_CERTS / es.ca_certs, "
    "or does not name this host"
)
