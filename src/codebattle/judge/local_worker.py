"""A judge worker process of the embedded default (judge/queue.py `LocalQueue`):

    python -m codebattle.judge.local_worker BLOBS_DIR

Reads jobs from stdin and writes their events to stdout, one JSON document a line; exits at
the end of stdin (the web app stopped or died). Started with an empty environment: it needs
the blob folder and the sandbox, never the database or a secret.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from codebattle.judge.jobs import Event
from codebattle.judge.runner import JobRunner
from codebattle.storage import LocalBlobStore


def main() -> None:
    blobs = Path(sys.argv[1])
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to the log, never among the events
    runner = JobRunner.on_this_host(LocalBlobStore(blobs))

    def emit(event: Event) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    for line in sys.stdin:
        runner.execute(json.loads(line), emit)


if __name__ == "__main__":
    main()
