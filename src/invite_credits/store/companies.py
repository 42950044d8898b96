"""Companies and who follows them."""

from __future__ import annotations

from .protocol import Reader, Row, Tx
from .rows import Company, Follow


def _company(row: Row) -> Company:
    return Company(id=row["id"], name=row["name"], slug=row["slug"])


def insert(tx: Tx, *, name: str, slug: str, created_at: int) -> int:
    return tx.insert("company_insert", name=name, slug=slug, created_at=created_at)


def by_id(r: Reader, *, id: int) -> Company | None:
    row = r.one("company_by_id", id=id)
    return _company(row) if row else None


def by_slug(r: Reader, *, slug: str) -> Company | None:
    row = r.one("company_by_slug", slug=slug)
    return _company(row) if row else None


def page(r: Reader, *, search: str | None, after: tuple[str, int] | None, limit: int) -> list[Company]:
    """By name then id; `search` matches name or slug. Slow: run it with Store.read_slow."""
    rows = r.all("companies_page", search=search, limit=limit, after_name=after[0] if after else None,
                 after_id=after[1] if after else None)
    return [_company(row) for row in rows]


def follow(r: Reader, *, member_id: int, company_id: int) -> Follow | None:
    row = r.one("follow_get", member_id=member_id, company_id=company_id)
    return Follow(member_id, company_id, bool(row["following"])) if row else None


def follow_insert(tx: Tx, *, member_id: int, company_id: int, now: int) -> None:
    tx.run_later("follow_insert", expect=1, member_id=member_id, company_id=company_id, now=now)


def follow_set(tx: Tx, *, member_id: int, company_id: int, following: bool) -> None:
    tx.run_later("follow_set", member_id=member_id, company_id=company_id, following=int(following))
