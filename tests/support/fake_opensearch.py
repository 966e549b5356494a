"""A local stand-in for OpenSearch on 127.0.0.1, speaking the few calls of its HTTP API the
log sink makes, so that the sink is tested with the real opensearch-py client (no OpenSearch
server installs on these machines). The HTTP scaffolding is fake_gptzero's.

  GET  /                           cluster info
  PUT  /_index_template/<name>     kept; applied to an index created afterwards whose name
                                   matches its `index_patterns` (its mappings then check
                                   `integer` and `date` fields: a bad value is a 400 item)
  POST /_bulk                      NDJSON `index` operations with `_index` and `_id`;
                                   per-item results and the `errors` flag
  POST /<index>/_search            `match_all`, `bool.filter` of `term`/`terms`, `sort` on
                                   one field, `size`; hits are what the last refresh saw
  POST /<index>/_count             the same queries
  POST /<index>/_refresh           makes written documents searchable, as OpenSearch does

Every request must carry `Authorization: ApiKey <api_key>` when the fake has a key. It can
be told to fail: `fail(n, status)` answers the next n requests with that status (an
outage), `fail_items(n, status)` refuses the next n bulk items (429: too busy), and
`forbid(prefix)` answers 403 to requests such as "PUT /_index_template" (a key without
that permission).
"""

from __future__ import annotations

import fnmatch
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.fake_gptzero import Recorded
from tests.support.loopback import LoopbackServer, QuietHandler

TEST_KEY = "opensearch-test-key-0123456789abcdef"
VERSION = "2.19.0"


class BadRequest(Exception):
    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.kind = kind
        self.reason = reason


@dataclass
class Index:
    mappings: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # what was written
    visible: dict[str, dict[str, Any]] = field(default_factory=dict)  # what a search sees


@dataclass
class _State:
    api_key: str | None
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    indices: dict[str, Index] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next requests
    item_failures: list[int] = field(default_factory=list)  # statuses for the next items
    forbidden: set[str] = field(default_factory=set)  # "PUT /_index_template": 403
    lock: threading.Lock = field(default_factory=threading.Lock)


def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _matches(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    if not query or "match_all" in query:
        return True
    if "bool" in query:
        clauses = query["bool"].get("filter", [])
        clauses = clauses if isinstance(clauses, list) else [clauses]
        return all(_matches(clause, doc) for clause in clauses)
    if "term" in query:
        ((name, value),) = query["term"].items()
        value = value.get("value") if isinstance(value, dict) else value
        return name in doc and _norm(doc[name]) == _norm(value)
    if "terms" in query:
        ((name, values),) = query["terms"].items()
        return name in doc and _norm(doc[name]) in {_norm(v) for v in values}
    raise BadRequest(400, "parsing_exception", f"unknown query {sorted(query)}")


def _check(mappings: dict[str, Any], doc: dict[str, Any]) -> None:
    """What OpenSearch's mapper refuses among what the log sink writes."""
    for name, mapping in mappings.get("properties", {}).items():
        if name not in doc or doc[name] is None:
            continue
        value, kind = doc[name], mapping.get("type")
        integral = isinstance(value, int) and not isinstance(value, bool)
        numeric_text = isinstance(value, str) and value.lstrip("-").isdigit()
        if kind == "integer" and not (integral or numeric_text):
            raise BadRequest(400, "mapper_parsing_exception", f"failed to parse [{name}]")
        if kind == "date":
            try:
                datetime.fromisoformat(str(value))
            except ValueError:
                raise BadRequest(
                    400, "mapper_parsing_exception", f"failed to parse date [{name}]"
                ) from None


class _Handler(QuietHandler):
    server: _Server

    def _fail(self, status: int, kind: str, reason: str) -> None:
        body = {"error": {"type": kind, "reason": reason}, "status": status}
        self._send(status, json.dumps(body).encode())

    def _ok(self, body: dict[str, Any], status: int = 200) -> None:
        self._send(status, json.dumps(body).encode())

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        state = self.server.state
        raw = self._read_text()
        path = urlsplit(self.path).path
        with state.lock:
            state.requests.append(Recorded(method, self.path, dict(self.headers.items()), raw))
            failure = state.failures.pop(0) if state.failures else None
        if state.api_key is not None and self.headers.get("Authorization") != (
            f"ApiKey {state.api_key}"
        ):
            self._fail(401, "security_exception", "missing or bad API key")
            return
        if failure is not None:
            self._fail(failure, "unavailable", "told to fail")
            return
        if any(f"{method} {path}".startswith(prefix) for prefix in state.forbidden):
            self._fail(403, "security_exception", "no permissions for this action")
            return
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        try:
            with state.lock:
                self._route(method, parts, raw)
        except BadRequest as error:
            self._fail(error.status, error.kind, error.reason)

    def _route(self, method: str, parts: list[str], raw: str) -> None:
        state = self.server.state
        if method == "GET" and not parts:
            self._ok(
                {
                    "name": "fake",
                    "cluster_name": "codebattle-test",
                    "version": {"distribution": "opensearch", "number": VERSION},
                    "tagline": "The OpenSearch Project: https://opensearch.org/",
                }
            )
        elif method == "PUT" and len(parts) == 2 and parts[0] == "_index_template":
            state.templates[parts[1]] = json.loads(raw)
            self._ok({"acknowledged": True})
        elif method == "POST" and parts == ["_bulk"]:
            self._ok(self._bulk(raw))
        elif len(parts) == 2 and parts[1] in ("_search", "_count", "_refresh"):
            index = state.indices.get(parts[0])
            if index is None:
                raise BadRequest(404, "index_not_found_exception", f"no such index [{parts[0]}]")
            body = json.loads(raw) if raw.strip() else {}
            if parts[1] == "_refresh":
                index.visible = dict(index.docs)
                self._ok({"_shards": {"total": 1, "successful": 1, "failed": 0}})
                return
            hits = [
                (i, d) for i, d in index.visible.items() if _matches(body.get("query") or {}, d)
            ]
            if parts[1] == "_count":
                self._ok({"count": len(hits)})
                return
            for spec in reversed(body.get("sort", [])):
                ((name, order),) = spec.items()
                descending = (order.get("order") if isinstance(order, dict) else order) == "desc"
                hits.sort(key=lambda hit, n=name: _norm(hit[1].get(n, "")), reverse=descending)
            size = int(body.get("size", 10))
            self._ok(
                {
                    "hits": {
                        "total": {"value": len(hits), "relation": "eq"},
                        "hits": [
                            {"_index": parts[0], "_id": i, "_source": d} for i, d in hits[:size]
                        ],
                    }
                }
            )
        else:
            raise BadRequest(400, "illegal_argument_exception", f"no fake for {method} /{parts}")

    def _bulk(self, raw: str) -> dict[str, Any]:
        state = self.server.state
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        if len(lines) % 2:
            raise BadRequest(400, "illegal_argument_exception", "action without a source")
        items: list[dict[str, Any]] = []
        for action, doc in zip(lines[::2], lines[1::2], strict=True):
            if list(action) != ["index"]:
                raise BadRequest(400, "illegal_argument_exception", f"not faked: {list(action)}")
            target, doc_id = action["index"]["_index"], str(action["index"]["_id"])
            result: dict[str, Any] = {"_index": target, "_id": doc_id}
            if state.item_failures:
                status = state.item_failures.pop(0)
                error = {"type": "es_rejected_execution_exception", "reason": "too busy"}
                items.append({"index": {**result, "status": status, "error": error}})
                continue
            index = state.indices.get(target) or self._create(target)
            try:
                _check(index.mappings, doc)
            except BadRequest as refused:
                error = {"type": refused.kind, "reason": refused.reason}
                items.append({"index": {**result, "status": refused.status, "error": error}})
                continue
            existed = doc_id in index.docs
            index.docs[doc_id] = doc
            outcome = ("updated", 200) if existed else ("created", 201)
            items.append({"index": {**result, "result": outcome[0], "status": outcome[1]}})
        errors = any(item["index"]["status"] >= 300 for item in items)
        return {"took": 1, "errors": errors, "items": items}

    def _create(self, name: str) -> Index:
        state = self.server.state
        chosen: dict[str, Any] = {}
        for spec in sorted(state.templates.values(), key=lambda t: -int(t.get("priority", 0))):
            if any(fnmatch.fnmatchcase(name, p) for p in spec.get("index_patterns", [])):
                chosen = spec
                break
        index = Index(mappings=chosen.get("template", {}).get("mappings", {}))
        state.indices[name] = index
        return index


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeOpenSearch(LoopbackServer):
    """Start with `with FakeOpenSearch() as fake:`; point the client at `fake.url`."""

    def __init__(self, api_key: str | None = TEST_KEY) -> None:
        self._state = _State(api_key=api_key)
        super().__init__()

    @property
    def api_key(self) -> str | None:
        return self._state.api_key

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def templates(self) -> dict[str, dict[str, Any]]:
        with self._state.lock:
            return json.loads(json.dumps(self._state.templates))  # type: ignore[no-any-return]

    def documents(self, index: str) -> dict[str, dict[str, Any]]:
        """What was written to an index, searchable or not yet."""
        with self._state.lock:
            found = self._state.indices.get(index)
            return dict(found.docs) if found else {}

    def mappings(self, index: str) -> dict[str, Any]:
        with self._state.lock:
            found = self._state.indices.get(index)
            return dict(found.mappings) if found else {}

    def fail(self, count: int, status: int = 503) -> None:
        """Answer the next `count` requests with `status`."""
        with self._state.lock:
            self._state.failures.extend([status] * count)

    def forbid(self, prefix: str) -> None:
        """Answer 403 to requests starting with `prefix` ("PUT /_index_template")."""
        with self._state.lock:
            self._state.forbidden.add(prefix)

    def fail_items(self, count: int, status: int = 429) -> None:
        """Refuse the next `count` bulk items with `status`."""
        with self._state.lock:
            self._state.item_failures.extend([status] * count)

    def _make_server(self) -> ThreadingHTTPServer:
        return _Server(self._state)
