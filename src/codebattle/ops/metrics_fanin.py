"""One scrape target for the two workers of a worker machine (deploy/worker-start.sh).

A machine runs two `codebattle worker`s, one `--urgent`; each serves its own metrics on a
loopback port. Fly's managed Prometheus scrapes one port per machine (a machine's config
has a single metrics endpoint), so this process serves both on METRICS_PORT: at each scrape
it reads every worker's metrics and gives their series a `lane` label (`urgent`, `all`),
so the two never collide. `codebattle_worker_scraped{lane}` is 0 for a worker that did not
answer (starting, or gone: the container then ends). METRICS_TOKEN, when set, is asked of
this scrape and sent to the workers.

    python -m codebattle.ops.metrics_fanin --host :: urgent=9092 all=9093
"""

from __future__ import annotations

import argparse
import sys
import threading
import urllib.request
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from codebattle.config import ConfigError, Settings, load_settings
from codebattle.ops import metrics_port

LABEL = "lane"
READ_SECONDS = 3.0  # a worker that does not answer in time is left out of this scrape


class Lanes(Collector):
    """The metrics of the workers at `sources` (lane, URL), each series labelled with
    its worker's lane; read at collect time, so a scrape sees them as they are."""

    def __init__(self, sources: Sequence[tuple[str, str]], token: str | None) -> None:
        self.sources = list(sources)
        self.token = token

    def _read(self, url: str) -> str:
        request = urllib.request.Request(url)  # noqa: S310 (always http://127.0.0.1:<port>)
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=READ_SECONDS) as response:  # noqa: S310
            return str(response.read().decode())

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Metric] = {}
        scraped = GaugeMetricFamily(
            "codebattle_worker_scraped",
            "1 when this machine's worker of the lane answered this scrape, else 0.",
            labels=[LABEL],
        )
        for lane, url in self.sources:
            try:
                families = list(text_string_to_metric_families(self._read(url)))
            except (OSError, ValueError):  # refused, timed out, HTTP error, unreadable
                scraped.add_metric([lane], 0)
                continue
            scraped.add_metric([lane], 1)
            for family in families:
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    into.samples.append(sample._replace(labels={**sample.labels, LABEL: lane}))
        yield from merged.values()
        yield scraped


def lane(text: str) -> tuple[str, int]:
    """`urgent=9092`: a lane's name and its worker's loopback port."""
    name, _, port = text.partition("=")
    if not name.isidentifier() or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: give LANE=PORT, e.g. urgent=9092")
    return name, int(port)


def registry_for(settings: Settings, lanes: Sequence[tuple[str, int]]) -> CollectorRegistry:
    token = settings.METRICS_TOKEN.get_secret_value() if settings.METRICS_TOKEN else None
    sources = [(name, f"http://127.0.0.1:{port}{metrics_port.PATH}") for name, port in lanes]
    registry = CollectorRegistry(auto_describe=False)  # no read of the workers at start
    registry.register(Lanes(sources, token))
    return registry


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codebattle.ops.metrics_fanin")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (`::`: all, IPv6 and IPv4)"
    )
    parser.add_argument("lanes", nargs="+", type=lane, metavar="LANE=PORT")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(serving=False)
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    if settings.METRICS_PORT is None:
        print("error: METRICS_PORT is not set: nothing to serve", file=sys.stderr)
        return 2
    try:
        metrics_port.serve_on_port(settings, args.host, registry_for(settings, args.lanes))
    except OSError as exc:
        port = settings.METRICS_PORT
        print(f"error: METRICS_PORT: cannot listen on {args.host}:{port} ({exc.strerror})",
              file=sys.stderr)  # fmt: skip
        return 2
    threading.Event().wait()  # the server's thread serves until SIGTERM ends the process
    return 0


if __name__ == "__main__":
    sys.exit(main())
