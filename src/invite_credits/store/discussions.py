"""Discussion contributions."""

from __future__ import annotations

from ..domain.policy import DiscussionKind
from .ahead import drawn
from .protocol import Reader, Tx
from .rows import Post


def next_id(r: Reader) -> int | None:
    """The id `insert` gives the next post (a use case may declare it ahead)."""
    row = r.one("post_next_id")
    return int(row["id"]) if row else None


def insert(tx: Tx, *, member_id: int, kind: DiscussionKind, body: str, posted_at: int) -> int:
    """The new post's id, drawn first, so the insert goes out with the statements after it."""
    id = drawn(next_id(tx), "post")
    tx.run_later("post_insert", expect=1, id=id, member_id=member_id, kind=kind.value, body=body, posted_at=posted_at)
    return id


def by_id(r: Reader, *, id: int) -> Post | None:
    row = r.one("post_by_id", id=id)
    if row is None:
        return None
    return Post(id=row["id"], member_id=row["member_id"], kind=DiscussionKind(row["kind"]), body=row["body"],
                posted_at=row["posted_at"])
