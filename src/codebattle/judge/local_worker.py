"""A judge worker process of the embedded default (judge/queue.py `LocalQueue`):

    python -m codebattle.judge.local_worker [--trace CONFIG]   (CONFIG: integrations/tracing.py)

Reads jobs from stdin and writes their events to stdout, one JSON document a line; exits at
the end of stdin (the web app stopped or died). A job whose package the blob store could not
give (runner.BlobsUnavailable) gets a `given_back` line instead of events: the queue judges
it again later. Started with an environment of PATH and the blob store's settings only
(storage.store_environment: DATA_DIR, or the S3_* of a bucket): it opens the same store as
the web app, and never sees the database or another secret.
Also LOG_FORMAT and, when the app reports errors, its Sentry DSN, environment and release:
it logs and reports as the app does.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from codebattle import logs
from codebattle.config import load_settings
from codebattle.integrations import sentry, tracing
from codebattle.judge.jobs import Event
from codebattle.judge.runner import GIVEN_BACK, BlobsUnavailable, JobRunner
from codebattle.storage import open_store


def main() -> None:
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to the log, never among the events
    # Only the environment the queue gave, not a .env file of the working directory.
    settings = load_settings(_env_file=None)
    logs.configure(settings)  # LOG_FORMAT: the web app's (queue.py), JSON lines on stderr
    # The app's Sentry settings, when it reports (sentry.child_environment).
    sentry.init(settings, server_name=f"{socket.gethostname()}-{os.getpid()}", component="worker")
    tracing.setup_worker(sys.argv[1:])  # the web app's tracing, as its queue passed it
    logs.use_trace_ids(tracing.current_ids)  # lines inside a job's span carry its ids
    runner = JobRunner.on_this_host(open_store(settings))

    def emit(event: Event) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    for line in sys.stdin:
        job = json.loads(line)
        try:
            runner.execute(job, emit)
        except BlobsUnavailable:  # the queue puts the job back (logged by the runner)
            events.write(json.dumps({"submission": job["submission"], "type": GIVEN_BACK}) + "\n")
            events.flush()
    tracing.shutdown()  # the web app stopped: the last spans sent


if __name__ == "__main__":
    main()
