"""Discussion contributions."""

from __future__ import annotations

from ..domain.policy import DiscussionKind
from .protocol import Reader, Tx
from .rows import Post


def insert(tx: Tx, *, member_id: int, kind: DiscussionKind, body: str, posted_at: int) -> int:
    return tx.insert("post_insert", member_id=member_id, kind=kind.value, body=body, posted_at=posted_at)


def by_id(r: Reader, *, id: int) -> Post | None:
    row = r.one("post_by_id", id=id)
    if row is None:
        return None
    return Post(id=row["id"], member_id=row["member_id"], kind=DiscussionKind(row["kind"]), body=row["body"],
                posted_at=row["posted_at"])
