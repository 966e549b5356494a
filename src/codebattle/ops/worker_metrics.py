"""Prometheus metrics of a `codebattle worker` process (served on its METRICS_PORT by
ops/metrics_http.serve_on_port): jobs judged, seconds per job by language, busy or idle.

The worker's loop (judge/worker.py) stays as it is: it is given a JobRunner that counts
what it runs (`MeteredRunner`)."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from codebattle.judge import jobs
from codebattle.judge.runner import JobRunner
from codebattle.judge.verdicts import Verdict
from codebattle.ops.metrics import language_label


class WorkerMetrics:
    """The worker's metrics, on a registry of their own (one per worker process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.judged = Counter(
            "codebattle_worker_jobs_judged",
            "Judge jobs this worker finished, by language and verdict (IE: the judge's fault).",
            ["language", "verdict"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "codebattle_worker_job_seconds",
            "Time this worker spent on one job (package, compile, every test), by language.",
            ["language"],
            buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
            registry=self.registry,
        )
        self.busy = Gauge(
            "codebattle_worker_busy",
            "1 while this worker judges a job, 0 while it waits for one.",
            registry=self.registry,
        )
        self.busy.set(0)


class MeteredRunner(JobRunner):
    """A JobRunner (the one built for this host) that counts each job it executes."""

    def __init__(self, runner: JobRunner, metrics: WorkerMetrics) -> None:
        super().__init__(runner.judge, runner.packages)
        self.metrics = metrics

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        verdict = "none"  # the job ended without a verdict sent (should not happen)

        def seen(event: jobs.Event) -> None:
            nonlocal verdict
            if event["type"] == "done":
                sent = str(event["result"]["verdict"])
                verdict = sent if sent in Verdict.__members__ else "other"
            emit(event)

        language = language_label(job.get("language"))
        self.metrics.busy.set(1)
        began = perf_counter()
        try:
            super().execute(job, seen)
        finally:
            self.metrics.seconds.labels(language).observe(perf_counter() - began)
            self.metrics.judged.labels(language, verdict).inc()
            self.metrics.busy.set(0)
