"""Prometheus metrics, computed from the database and Redis at scrape time.

Workers are other processes (often other machines), so no in-process counter sees the whole
picture. Every figure here is read from the source of truth instead: the event log, the runs,
their steps and the outbound messages (database) and the RQ queue (Redis). Any web process
answers a scrape with the same numbers, whichever process did the work. Counters count rows
still stored, so they drop when the retention cleanup deletes old runs (Prometheus' ``rate()``
treats a drop as a counter reset).

>>> _bucket_sql_bounds((0.005, 1.0))
[5.0, 1000.0]
"""

from __future__ import annotations

__all__ = ["BUCKETS", "collect", "render"]

from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from sqlalchemy import case, func, select

from backend.extensions import db
from backend.models import EventLog, OutboundMessage, StepExecution, WorkflowExecution, utcnow
from backend.queue import get_queue

#: Step latency buckets, seconds (upper bounds; +Inf is added).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _bucket_sql_bounds(buckets) -> list[float]:
    return [b * 1000.0 for b in buckets]


def _events() -> CounterMetricFamily:
    family = CounterMetricFamily(
        "flowmarket_events",
        "Events received, by type and processing status",
        labels=["event_type", "status"],
    )
    rows = db.session.execute(
        select(EventLog.event_type, EventLog.status, func.count()).group_by(
            EventLog.event_type, EventLog.status
        )
    )
    for event_type, status, count in rows:
        family.add_metric([event_type, status], count)
    return family


def _runs() -> GaugeMetricFamily:
    family = GaugeMetricFamily("flowmarket_runs", "Runs stored, by status", labels=["status"])
    rows = db.session.execute(
        select(WorkflowExecution.status, func.count()).group_by(WorkflowExecution.status)
    )
    for status, count in rows:
        family.add_metric([status], count)
    return family


def _step_latency() -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "flowmarket_step_duration_seconds", "Step latency by node type", labels=["node_type"]
    )
    ms = StepExecution.duration_ms
    columns = [func.sum(case((ms <= bound, 1), else_=0)) for bound in _bucket_sql_bounds(BUCKETS)]
    query = (
        select(StepExecution.node_type, func.count(), func.coalesce(func.sum(ms), 0), *columns)
        .where(ms.is_not(None))
        .group_by(StepExecution.node_type)
    )
    for node_type, total, sum_ms, *cumulative in db.session.execute(query):
        buckets = [(str(b), int(c or 0)) for b, c in zip(BUCKETS, cumulative, strict=True)]
        buckets.append(("+Inf", int(total)))
        family.add_metric([node_type], buckets, float(sum_ms) / 1000.0)
    return family


def _outbound() -> CounterMetricFamily:
    family = CounterMetricFamily(
        "flowmarket_outbound_messages",
        "Outbound sends (or captures), by channel and status",
        labels=["channel", "kind", "status"],
    )
    rows = db.session.execute(
        select(
            OutboundMessage.channel, OutboundMessage.kind, OutboundMessage.status, func.count()
        ).group_by(OutboundMessage.channel, OutboundMessage.kind, OutboundMessage.status)
    )
    for channel, kind, status, count in rows:
        family.add_metric([channel, kind, status], count)
    return family


def _backlog(now) -> list[GaugeMetricFamily]:
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(EventLog.received_at)).where(EventLog.status == "received")
    ).one()
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    overdue = db.session.scalar(
        select(func.count()).where(
            WorkflowExecution.status == "waiting",
            WorkflowExecution.resume_at < now - timedelta(seconds=60),
        )
    )
    pending = db.session.scalar(select(func.count()).where(WorkflowExecution.status == "waiting"))
    return [
        GaugeMetricFamily(
            "flowmarket_events_waiting", "Events stored but not processed yet", value=waiting
        ),
        GaugeMetricFamily(
            "flowmarket_oldest_waiting_event_age_seconds",
            "Age of the oldest event not processed yet (0: none)",
            value=max(age, 0),
        ),
        GaugeMetricFamily("flowmarket_waits_pending", "Runs waiting to resume", value=pending),
        GaugeMetricFamily(
            "flowmarket_waits_overdue",
            "Waiting runs more than 60 s past their resume time",
            value=overdue,
        ),
    ]


def _queue() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "flowmarket_queue_depth", "Jobs in the RQ queue (-1: Redis down)", labels=["queue", "state"]
    )

    try:
        queue = get_queue()
        family.add_metric([queue.name, "queued"], queue.count)
        family.add_metric([queue.name, "scheduled"], queue.scheduled_job_registry.count)
        family.add_metric([queue.name, "started"], queue.started_job_registry.count)
    except Exception:  # Redis down: say so in the figure instead of failing the scrape
        family.add_metric(["default", "queued"], -1)
    return family


class _Collector:
    """A prometheus-client collector reading everything at ``collect`` time."""

    def collect(self):
        now = utcnow()
        yield _events()
        yield _runs()
        yield _step_latency()
        yield _outbound()
        yield from _backlog(now)
        yield _queue()


def collect() -> CollectorRegistry:
    """A fresh registry holding the collector (one per scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return registry


def render() -> bytes:
    """The text exposition format of every metric."""
    try:
        return generate_latest(collect())
    finally:
        db.session.rollback()
