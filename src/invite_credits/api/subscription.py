"""Subscription: the viewer's balance and ledger, live, over WebSocket (graphql-transport-ws) at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ..domain.errors import Unauthenticated
from .context import Info
from .types import LedgerEntry
from .values import Balance

ENTRIES_PER_WAKE = 100


def _still_signed_in(info: Info) -> None:
    """A subscription opened with a token that has since been signed out (signOutEverywhere) sends nothing more."""
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
                member = ctx.service.member(member_id)
                if member is None:
                    raise Unauthenticated("The token's member does not exist.")
                _still_signed_in(info)
                yield Balance.of(ctx.service.balance(member))
                await changes.get()

    @strawberry.subscription(description="Each new entry of the viewer's ledger as it is written, expiry included.")
    async def ledger_entry_added(self, info: Info) -> AsyncGenerator[LedgerEntry, None]:
        ctx = info.context
        member_id = ctx.actor.require_member()
        async with ctx.live_feed().subscribe(member_id) as changes:
            newest = ctx.service.ledger(member_id, 1, None, None).items
            seen = newest[0].id if newest else 0
            while True:
                await changes.get()
                _still_signed_in(info)
                for entry in ctx.service.entries_after(member_id, seen, ENTRIES_PER_WAKE):
                    seen = entry.id
                    yield LedgerEntry.of(entry)
