"""Prometheus metrics: every series the service exports, and the store's write observer."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Every metric the service exports, in a registry of its own (one per app). Under a supervisor
    (PROMETHEUS_MULTIPROC_DIR set), `exposition()` sums every worker's files instead."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("invite_credits_graphql_requests", "GraphQL operations by name and outcome.",
                                ["operation", "outcome"], registry=r)
        self.latency = Histogram("invite_credits_graphql_request_seconds", "GraphQL operation latency.",
                                 ["operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.credits = Counter("invite_credits_credits", "Credits moved, by kind (committed writes only).",
                               ["kind"], registry=r)
        self.tokens_refused = Counter("invite_credits_tokens_refused", "Bearer tokens refused (HTTP 401), by reason.",
                                      ["reason"], registry=r)
        # With several workers /metrics sums counters and histograms over them; these gauges take the largest.
        self.sweep_lag = Gauge("invite_credits_sweep_lag_seconds",
                               "How long the oldest unwritten expiry had been due when the sweep started (the "
                               "largest over the workers).", registry=r, multiprocess_mode="max")
        self.sweep_last = Gauge("invite_credits_sweep_last_run_timestamp_seconds", "When the last sweep finished "
                                "(the latest over the workers).", registry=r, multiprocess_mode="max")
        self.lock_wait = Histogram("invite_credits_write_lock_wait_seconds",
                                   "Time to take SQLite's write lock (BEGIN IMMEDIATE).", buckets=LATENCY_BUCKETS,
                                   registry=r)
        self.queue_wait = Histogram("invite_credits_write_queue_seconds",
                                    "Time a write waited to start: for SQLite's writer thread, or for a "
                                    "PostgreSQL connection.", buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("invite_credits_write_batch_size", "Writes committed together.",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r)
        self.round_trip_counts = Histogram("invite_credits_write_round_trips", "Times a committed write waited for "
                                     "PostgreSQL, its commit included.", buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24),
                                     registry=r)
        self.retries = Counter("invite_credits_write_retries", "Writes run again (PostgreSQL): lost a race "
                               "(SerializationFailure, DeadlockDetected, UniqueViolation) or a dropped connection.",
                               ["reason"], registry=r)
        self.storage_faults = Counter("invite_credits_storage_faults", "Writes the database could not take (a full "
                                      "disk, a read-only file, an I/O error), answered SERVICE_UNAVAILABLE; by kind.",
                                      ["kind"], registry=r)
        self.webhook_deliveries = Counter("invite_credits_webhook_deliveries", "Webhook attempts, by outcome "
                                          "(succeeded, retrying, failed).", ["outcome"], registry=self.registry)
        self.broker_published = Counter("invite_credits_broker_published", "Events published to NATS JetStream "
                                        "and acknowledged.", registry=self.registry)
        self.outbox_lag = Gauge("invite_credits_outbox_lag_seconds", "Age of the oldest undelivered event, per "
                                "webhook endpoint, and for the broker (endpoint=\"broker\").", ["endpoint"], registry=self.registry,
                                multiprocess_mode="max")
        self.rate_limited = Counter("invite_credits_rate_limited", "Requests refused with 429, by bucket.", ["bucket"],
                                    registry=r)
        self.rate_limit_store_errors = Counter("invite_credits_rate_limit_store_errors",
                                               "Rate limit checks Redis did not answer (the request was served).",
                                               registry=r)
        self._operations: dict[tuple[str, str], tuple[Any, Any]] = {}

    def operation(self, name: str, outcome: str, seconds: float) -> None:
        """One GraphQL operation: its count and its latency (each series' child looked up once per process)."""
        children = self._operations.get((name, outcome))
        if children is None:
            children = self._operations[(name, outcome)] = (self.requests.labels(name, outcome),
                                                            self.latency.labels(name))
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        """The text /metrics answers: this app's registry, or every worker's under a supervisor."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))

    # The store's observer (store.protocol.WriteObserver).
    def committed(self, moved: Mapping[str, int]) -> None:
        for kind, amount in moved.items():
            if amount:
                self.credits.labels(kind).inc(amount)

    def write_lock_waited(self, seconds: float) -> None:
        self.lock_wait.observe(seconds)

    def write_queued(self, seconds: float) -> None:
        self.queue_wait.observe(seconds)

    def batch_committed(self, size: int) -> None:
        self.batch_size.observe(size)

    def write_round_trips(self, count: int) -> None:
        self.round_trip_counts.observe(count)

    def retried(self, reason: str) -> None:
        self.retries.labels(reason).inc()

    def storage_fault(self, kind: str) -> None:
        self.storage_faults.labels(kind).inc()
