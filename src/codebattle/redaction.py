"""What a request's path may show outside the app (log lines, traces, Sentry events): no
query string and no capability. Below every layer, so logs and integrations share it."""

from __future__ import annotations

# Paths whose last part is a capability (whoever holds it may act): never shown.
SECRET_PATHS = ("/consent/",)


def redact_path(path: str) -> str:
    """A request path as a log line, a span or an error report may show it: no query string
    (an OAuth callback's code, a checkout's billing key) and no capability in the path (a
    guardian's consent link)."""
    path = path.split("?", 1)[0]
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path
