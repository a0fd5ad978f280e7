"""Prometheus metrics (docs/operations.md): one ``Metrics`` per runtime, never a module-level registry.

Counters, histograms and the tracks gauge are kept by this process and count what it did; the gauges
read from the database (open conflicts, overdue notifications) are computed at each scrape by one small
query each, so every process of a deployment reports the same value for them. Several processes are
scraped one by one (docs/operations.md says why not prometheus-client's multiprocess mode).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from deconfliction.service.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CYCLE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

INGEST_PATHS = ("http", "sbs", "cot_udp", "cot_tcp")
AUTH_KINDS = ("api_key", "certificate", "signature", "jwt")


class Metrics:
    """The instruments of one server process, in their own registry."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        self.requests = Counter(
            "deconfliction_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "deconfliction_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.conflicts_opened = Counter(
            "deconfliction_conflicts_opened",
            "Conflict records opened (each found once, told to both sides)",
            registry=r,
        )
        self.acknowledgements = Counter(
            "deconfliction_notifications_acknowledged", "Notifications acknowledged by their party", registry=r
        )
        self.escalations = Counter(
            "deconfliction_escalations",
            "Escalation steps taken: to the next contact of a ladder, or to the coordinators",
            ["to"],
            registry=r,
        )
        self.deliveries_failed = Counter(
            "deconfliction_deliveries_failed", "Failed delivery attempts (webhook, e-mail)", ["channel"], registry=r
        )
        self.alerts = Counter(
            "deconfliction_alerts", "Tactical alerts raised and resolved", ["change", "kind"], registry=r
        )
        self.cycle_seconds = Histogram(
            "deconfliction_tactical_cycle_duration_seconds",
            "Duration of one tactical detection cycle",
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.cycle_overruns = Counter(
            "deconfliction_tactical_cycle_overruns", "Tactical cycles that took longer than their period", registry=r
        )
        self.tracks = Gauge("deconfliction_tracks", "Live tracks in this process's tactical picture", registry=r)
        self.reports = Counter(
            "deconfliction_position_reports_ingested",
            "Position reports accepted, by path (http batch, sbs feed, cot_udp, cot_tcp)",
            ["path"],
            registry=r,
        )
        self.auth_failures = Counter(
            "deconfliction_auth_failures",
            "Failed authentications, by kind (never the secret tried)",
            ["kind"],
            registry=r,
        )
        self.lockouts = Counter(
            "deconfliction_auth_lockouts",
            "Failed authentications that reached the limit (a 429 lock begins), by scope",
            ["scope"],
            registry=r,
        )
        for path in INGEST_PATHS:  # present from the start, at 0, so a rate() has a first sample
            self.reports.labels(path)
        for kind in AUTH_KINDS:
            self.auth_failures.labels(kind)
        for scope in ("address", "party"):
            self.lockouts.labels(scope)
        for to in ("contact", "coordinator"):
            self.escalations.labels(to)


class DatabaseGauges(Collector):
    """The gauges that come from the database, one query each at scrape time."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names, without asking the database (else registering would run the queries)."""
        yield GaugeMetricFamily("deconfliction_open_conflicts", "")
        yield GaugeMetricFamily("deconfliction_overdue_notifications", "")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.rt.store.read() as tx:
            open_conflicts = tx.gauges.open_conflicts()
            overdue = tx.gauges.overdue_notifications(self.rt.clock())
        yield GaugeMetricFamily("deconfliction_open_conflicts", "Conflict records open now", value=open_conflicts)
        yield GaugeMetricFamily(
            "deconfliction_overdue_notifications",
            "Notifications still chased that missed a deadline (acknowledge them, or they escalate)",
            value=overdue,
        )


def scrape(rt: Runtime) -> bytes:
    """The metrics page: this process's instruments, then the database's gauges."""
    database = CollectorRegistry()
    database.register(DatabaseGauges(rt))
    return generate_latest(rt.metrics.registry) + generate_latest(database)
