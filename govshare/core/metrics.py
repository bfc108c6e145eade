"""Process-wide Prometheus metrics: the registry behind /metrics (govshare.web.metrics) and the
helpers any module uses to declare its own counters and histograms, e.g. the exchange's data calls."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
_metrics: dict[str, Any] = {}

# Seconds; the lookup target is tens of milliseconds, uploads take minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


def counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    """The process-wide counter ``name`` (created once: apps built in tests share it)."""
    if name not in _metrics:
        _metrics[name] = Counter(name, documentation, labels, registry=REGISTRY)
    metric: Counter = _metrics[name]
    return metric


def histogram(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Histogram:
    if name not in _metrics:
        _metrics[name] = Histogram(name, documentation, labels, buckets=LATENCY_BUCKETS, registry=REGISTRY)
    metric: Histogram = _metrics[name]
    return metric


_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def labelled(metric: Any, *values: str) -> Any:
    """``metric.labels(*values)``, kept: prometheus_client validates the values and takes a lock at
    every ``labels()`` call, which the data API's hot path pays twice a request. Label values here are
    bounded (route templates, status classes, operations, resources, applications, refusal codes)."""
    key = (id(metric), values)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*values)
    return found
