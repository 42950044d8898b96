"""Prometheus metrics and structured JSON logs."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from strawberry.extensions import SchemaExtension

from .domain import ids
from .internals import graphql_schema

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
                                    "Time a write waited for the writer thread.", buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("invite_credits_write_batch_size", "Writes committed together.",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r)
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

    def retried(self, reason: str) -> None:
        self.retries.labels(reason).inc()

    def storage_fault(self, kind: str) -> None:
        self.storage_faults.labels(kind).inc()


def outcome_of(errors: list[Any] | None, request_error: bool) -> str:
    if request_error:
        return "rejected"
    codes = {(e.extensions or {}).get("code") for e in errors or ()}
    if "INTERNAL_SERVER_ERROR" in codes:
        return "error"
    if codes & {"UNAUTHENTICATED", "FORBIDDEN"}:
        return "denied"
    return "ok"


class Observe(SchemaExtension):
    """Per operation: a latency observation, an outcome count, and one structured log line."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        result = ctx.result
        errors = (result.errors if result is not None else None) or ctx.pre_execution_errors
        observe(ctx.context, graphql_schema(ctx.schema), ctx.graphql_document, ctx.operation_name, errors,
                time.perf_counter() - started)


def observe(context: Any, schema: Any, document: Any, operation_name: str | None, errors: list[Any] | None,
            elapsed: float) -> None:
    """One operation's latency observation, outcome count and log line (the extension's, and the thin path's)."""
    metrics: Metrics | None = getattr(context, "metrics", None)
    outcome = outcome_of(errors, getattr(context, "request_error", False))
    # The label is the document's first root field: a field of the schema once the document is valid, so
    # the set of series is bounded whatever operation names clients make up (those go to the log only).
    field = _root_field(document) if outcome != "rejected" else None
    label = field if field is not None and field in _schema_fields(schema) else "other"
    if metrics is not None:
        metrics.requests.labels(label, outcome).inc()
        metrics.latency.labels(label).observe(elapsed)
    actor = getattr(context, "actor", None)
    member_id = getattr(actor, "member_id", None)
    logging.getLogger("invite_credits.request").info(
        "graphql", extra={"fields": {
            "request_id": getattr(context, "request_id", None), "operation": label,
            "operation_name": (operation_name or "")[:64] or None, "outcome": outcome,
            "ms": round(elapsed * 1000, 2),
            "member_id": ids.encode("Member", member_id) if member_id is not None else None,
            "admin": getattr(actor, "is_admin", False)}},
    )


def _schema_fields(schema: Any) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(schema, "_invite_credits_root_fields", None)
    if cached is None:
        roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
        cached = frozenset(name for root in roots if root is not None for name in root.fields)
        schema._invite_credits_root_fields = cached
    return cached


def _root_field(document: Any) -> str | None:
    try:
        operation = document.definitions[0] if document else None
        selection = operation.selection_set.selections[0]  # type: ignore[union-attr]
        name: str = selection.name.value
        return name
    except (AttributeError, IndexError):
        return None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's `fields`, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)



class LastError(logging.Handler):
    """Keeps the last error line logged (a worker reports it to its supervisor when it fails to start)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage().strip().splitlines()[-1] if record.getMessage().strip() else None
