"""The worker machine's fan-in stays a small process (ops/metrics_port.py): importing it
loads prometheus_client, the settings and the messages, never the app (web framework,
database, the API's metrics), which took it from ~36 MB to ~130 MB."""

from __future__ import annotations

import json
import subprocess
import sys

APP_MODULES = (
    "fastapi", "starlette", "sqlalchemy", "redis", "jinja2",
    "codebattle.ops.metrics", "codebattle.ops.metrics_http", "codebattle.services",
)  # fmt: skip

PROBE = """
import json, sys
import codebattle.ops.metrics_fanin
print(json.dumps(sorted(sys.modules)))
"""


def test_the_fan_in_imports_no_part_of_the_app() -> None:
    child = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(child.stdout))
    assert "codebattle.ops.metrics_port" in loaded and "prometheus_client" in loaded
    assert sorted(name for name in APP_MODULES if name in loaded) == []
