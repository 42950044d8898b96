"""Subscription: the viewer's balance and ledger, live, over WebSocket (graphql-transport-ws) at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from ..domain.errors import Unauthenticated
from ..service.views import BalanceView
from ..store.rows import Entry
from .context import Info
from .types import LedgerEntry
from .values import Balance

ENTRIES_PER_WAKE = 100


def _still_signed_in(info: Info) -> None:
    """A subscription opened with a token that has since been signed out (signOutEverywhere) sends nothing more.
    Its reads, like the rest of a subscription's, run through `service.offload`."""
    actor = info.context.actor
    if actor.session is None or actor.member_id is None:
        return
    session = info.context.service.session(actor.member_id)
    if session is None or session.key != actor.session:
        raise Unauthenticated("The token was signed out (signOutEverywhere); sign in again.", "revoked")


@strawberry.type(description='Live updates over WebSocket at /graphql (graphql-transport-ws); the token goes in '
                             'connection_init\'s payload as {"Authorization": "Bearer ..."}.')
class Subscription:
    @strawberry.subscription(description="The viewer's balance now, then again after every change to it: grants, "
                                         "spends, expiry, from whichever server process made it.")
    async def balance_changed(self, info: Info) -> AsyncGenerator[Balance, None]:
        ctx = info.context
        member_id = ctx.actor.require_member()
        async with ctx.live_feed().subscribe(member_id) as changes:  # before the first read: no change is missed
            while True:
                yield Balance.of(await ctx.service.offload(lambda: _balance_now(info, member_id)))
                await changes.get()

    @strawberry.subscription(description="Each new entry of the viewer's ledger as it is written, expiry included.")
    async def ledger_entry_added(self, info: Info) -> AsyncGenerator[LedgerEntry, None]:
        ctx = info.context
        member_id = ctx.actor.require_member()
        async with ctx.live_feed().subscribe(member_id) as changes:
            newest = (await ctx.service.offload(lambda: ctx.service.ledger(member_id, 1, None, None))).items
            seen = newest[0].id if newest else 0
            while True:
                await changes.get()
                added = await ctx.service.offload(partial(_entries_after, info, member_id, seen))
                for entry in added:
                    seen = entry.id
                    yield LedgerEntry.of(entry)


def _balance_now(info: Info, member_id: int) -> BalanceView:
    member = info.context.service.member(member_id)
    if member is None:
        raise Unauthenticated("The token's member does not exist.")
    _still_signed_in(info)
    return info.context.service.balance(member)


def _entries_after(info: Info, member_id: int, seen: int) -> list[Entry]:
    _still_signed_in(info)
    return info.context.service.entries_after(member_id, seen, ENTRIES_PER_WAKE)
