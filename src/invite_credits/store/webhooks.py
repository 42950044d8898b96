"""Webhook endpoints and their deliveries: made by the events' fan-out trigger (or a redelivery), leased to one
process at a time for an attempt, and recorded."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .protocol import Reader, Row, Tx
from .rows import Claimed, Delivery, Endpoint


def _endpoint(row: Row) -> Endpoint:
    return Endpoint(id=row["id"], url=row["url"], event_types=json.loads(row["event_types"]),
                    enabled=bool(row["enabled"]), description=row["description"], secret=row["secret"],
                    previous_secret=row["previous_secret"], previous_until=row["previous_until"],
                    created_at=row["created_at"], idempotency_key=row["idempotency_key"])


def _delivery(row: Row) -> Delivery:
    return Delivery(id=row["id"], endpoint_id=row["endpoint_id"], event_id=row["event_id"], status=row["status"],
                    attempts=row["attempts"], next_attempt_at=row["next_attempt_at"],
                    last_attempt_at=row["last_attempt_at"], last_status_code=row["last_status_code"],
                    last_error=row["last_error"])


def insert(tx: Tx, *, url: str, event_types: Sequence[str], description: str | None, secret: str,
           idempotency_key: str | None) -> int:
    return tx.insert("endpoint_insert", url=url, event_types=json.dumps(list(event_types)), description=description,
                     secret=secret, created_at=tx.now, idempotency_key=idempotency_key)


def by_id(r: Reader, *, id: int) -> Endpoint | None:
    row = r.one("endpoint_by_id", id=id)
    return _endpoint(row) if row else None


def by_key(r: Reader, *, idempotency_key: str) -> Endpoint | None:
    row = r.one("endpoint_by_key", idempotency_key=idempotency_key)
    return _endpoint(row) if row else None


def page(r: Reader, *, after_id: int, limit: int) -> list[Endpoint]:
    return [_endpoint(row) for row in r.all("endpoints_page", after_id=after_id, limit=limit)]


def update(tx: Tx, *, id: int, url: str, event_types: Sequence[str], enabled: bool, description: str | None) -> None:
    tx.run("endpoint_update", id=id, url=url, event_types=json.dumps(list(event_types)), enabled=int(enabled),
           description=description)


def delete(tx: Tx, *, id: int) -> None:
    tx.run("endpoint_delete", id=id, now=tx.now)
    tx.run("endpoint_deliveries_cancel", endpoint_id=id)


def rotate(tx: Tx, *, id: int, secret: str, previous_until: int) -> None:
    tx.run("endpoint_rotate", id=id, secret=secret, previous_until=previous_until)


def add_delivery(tx: Tx, *, endpoint_id: int, event_id: int, now: int) -> int:
    return tx.insert("delivery_insert", endpoint_id=endpoint_id, event_id=event_id, now=now)


def delivery(r: Reader, *, id: int) -> Delivery | None:
    row = r.one("delivery_by_id", id=id)
    return _delivery(row) if row else None


def deliveries(r: Reader, *, endpoint_id: int, status: str | None, before_id: int, limit: int) -> list[Delivery]:
    return [_delivery(row) for row in r.all("deliveries_page", endpoint_id=endpoint_id, status=status,
                                            before_id=before_id, limit=limit)]


def any_due(r: Reader, *, now: int) -> bool:
    return r.one("deliveries_due_any", now=now) is not None


def claim(tx: Tx, *, now: int, until: int, limit: int) -> list[Claimed]:
    return [Claimed(int(row["id"]), int(row["endpoint_id"]), int(row["event_id"]), int(row["attempts"]))
            for row in tx.all("deliveries_claim", now=now, until=until, limit=limit)]


def record(tx: Tx, *, id: int, until: int, status: str, next_attempt_at: int | None, at: int,
           status_code: int | None, error: str | None) -> bool:
    """The attempt's outcome; False when the lease was lost meanwhile (another process took it over)."""
    return tx.run("delivery_record", id=id, until=until, status=status, next_attempt_at=next_attempt_at, at=at,
                  status_code=status_code, error=error) == 1


def lag(r: Reader) -> dict[int, int]:
    """endpoint -> when its oldest pending delivery was made (real time)."""
    return {int(row["endpoint_id"]): int(row["oldest"]) for row in r.all("deliveries_lag")}
