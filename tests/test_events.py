"""Events out through the API, on both stores: the outbox writes what commits and nothing that rolls back, each
type's data follows its JSON Schema (docs/events), the sweep's expiry notices come once per lot and date, and
the feed pages oldest first with retention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from invite_credits.domain.policy import EventType

from .http import Api, codes

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "events"
FEED = """query($after: String, $types: [EventType!], $first: Int) {
  events(first: $first, after: $after, types: $types) {
    edges { cursor node { id type occurredAt member { id } data } } pageInfo { hasNextPage endCursor } } }"""
SEND = "mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { invitation { id } userErrors { code } } }"
ANSWER = "mutation($i: InvitationActionInput!) { %s(input: $i) { userErrors { code } } }"
CLOCK = "mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { userErrors { code } } }"


def feed(api: Api, admin: str, types: list[str] | None = None) -> list[dict[str, Any]]:
    """Every event, paging 7 at a time, read until two reads agree: on PostgreSQL the feed shows a transaction's
    events once every transaction that began before it in the cluster has ended (other tests' included)."""
    import time

    previous = _feed_once(api, admin, types)
    while True:
        time.sleep(0.05)
        current = _feed_once(api, admin, types)
        if current == previous:
            return current
        previous = current


def _feed_once(api: Api, admin: str, types: list[str] | None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = api.data(FEED, {"after": after, "types": types, "first": 7}, token=admin)["events"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def validate(event: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / f"{event['type']}.schema.json").read_text(encoding="utf-8"))
    jsonschema_rs.validate(schema, event["data"])


def test_every_change_is_an_event_with_its_documented_data(api: Api, admin: str) -> None:
    ann, ann_token = api.sign_up("ann@example.com", "Ann")
    bob, bob_token = api.sign_up("bob@example.com", "Bob")
    carol, carol_token = api.sign_up("carol@example.com", "Carol")
    sent = api.data(SEND, {"i": {"inviteeId": bob}}, token=ann_token)["sendInvitation"]["invitation"]["id"]
    api.data(ANSWER % "acceptInvitation", {"i": {"invitationId": sent}}, token=bob_token)
    declined = api.data(SEND, {"i": {"inviteeId": carol}}, token=ann_token)["sendInvitation"]["invitation"]["id"]
    api.data(ANSWER % "declineInvitation", {"i": {"invitationId": declined}}, token=carol_token)
    withdrawn = api.data(SEND, {"i": {"inviteeId": ann}}, token=carol_token)["sendInvitation"]["invitation"]["id"]
    api.data(ANSWER % "withdrawInvitation", {"i": {"invitationId": withdrawn}}, token=carol_token)
    api.data("mutation($i: SetMemberTierInput!) { setMemberTier(input: $i) { userErrors { code } } }",
             {"i": {"memberId": carol, "tier": "RECRUITER"}}, token=admin)
    events = feed(api, admin)
    for event in events:
        validate(event)
    assert {e["type"] for e in events} == set(EventType) - {"CREDITS_EXPIRING_SOON"}
    ledger = [e for e in events if e["type"] == "LEDGER_ENTRY_ADDED"]
    entries = api.data("{ viewer { ledger(first: 50) { edges { node { id hash amount } } } } }",
                       token=ann_token)["viewer"]["ledger"]["edges"]
    mine = [e["data"] for e in ledger if e["data"]["member"] == ann]
    assert [(d["entry"], d["hash"], d["amount"]) for d in reversed(mine)] == [
        (n["node"]["id"], n["node"]["hash"], n["node"]["amount"]) for n in entries]
    accepted = next(e for e in events if e["type"] == "INVITATION_ACCEPTED")
    assert accepted["data"]["invitation"] == sent and accepted["member"] == {"id": bob}
    tier = next(e for e in events if e["type"] == "MEMBER_TIER_CHANGED")
    assert tier["data"] == {"member": carol, "before": "FREE", "after": "RECRUITER"}
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    only = feed(api, admin, ["INVITATION_SENT", "INVITATION_WITHDRAWN"])
    assert [e["type"] for e in only] == ["INVITATION_SENT", "INVITATION_SENT", "INVITATION_SENT",
                                         "INVITATION_WITHDRAWN"]


def test_what_is_refused_writes_no_event(api: Api, admin: str) -> None:
    ann, ann_token = api.sign_up("ann@example.com", "Ann")
    taken = api.data("mutation { signUp(input: {email: \"ann@example.com\", name: \"A\"}) { userErrors { code } } }")
    assert taken["signUp"]["userErrors"] == [{"code": "EMAIL_TAKEN"}]
    before = feed(api, admin)
    refused = api.data(SEND, {"i": {"inviteeId": ann}}, token=ann_token)["sendInvitation"]
    assert refused["userErrors"] == [{"code": "CANNOT_INVITE_SELF"}]
    assert feed(api, admin) == before
    assert [e["type"] for e in before] == ["MEMBER_SIGNED_UP", "LEDGER_ENTRY_ADDED"]


def _shift(when: str, days: int = 0, years: int = 0) -> str:
    from datetime import datetime, timedelta

    moved = datetime.fromisoformat(when.replace("Z", "+00:00")) + timedelta(days=days)
    return moved.replace(year=moved.year + years).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_sweep_notices_credits_expiring_soon_once_per_lot_and_date(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    lot = api.data("{ viewer { creditLots { edges { node { id expiresAt } } } } }",
                   token=token)["viewer"]["creditLots"]["edges"][0]["node"]
    expires = lot["expiresAt"]
    api.data(CLOCK, {"to": _shift(expires, days=-31)}, token=admin)  # 31 days before: not yet
    assert feed(api, admin, ["CREDITS_EXPIRING_SOON"]) == []
    api.data(CLOCK, {"to": _shift(expires, days=-29)}, token=admin)
    api.data(CLOCK, {"to": _shift(expires, days=-20)}, token=admin)  # a later sweep: still one
    notices = feed(api, admin, ["CREDITS_EXPIRING_SOON"])
    assert len(notices) == 1
    validate(notices[0])
    assert notices[0]["data"]["creditLot"] == lot["id"] and notices[0]["data"]["expiresAt"] == expires
    assert notices[0]["data"]["remaining"] == 15
    later = _shift(expires, years=1)
    api.data("mutation($i: ExtendCreditLotInput!) { extendCreditLot(input: $i) { userErrors { code } } }",
             {"i": {"lotId": lot["id"], "expiresAt": later, "reason": "goodwill"}}, token=admin)
    api.data(CLOCK, {"to": expires}, token=admin)  # the old date passes: no second notice for it
    assert len(feed(api, admin, ["CREDITS_EXPIRING_SOON"])) == 1
    api.data(CLOCK, {"to": _shift(later, days=-29)}, token=admin)
    api.data(CLOCK, {"to": _shift(later, days=-10)}, token=admin)
    notices = feed(api, admin, ["CREDITS_EXPIRING_SOON"])  # (the first, a year old, was pruned since)
    assert [n["data"]["expiresAt"] for n in notices] == [later]  # one more, for the new date


def test_an_extension_into_the_notice_window_gets_its_notice(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    lot = api.data("{ viewer { creditLots { edges { node { id expiresAt } } } } }",
                   token=token)["viewer"]["creditLots"]["edges"][0]["node"]
    api.data(CLOCK, {"to": _shift(lot["expiresAt"], days=-25)}, token=admin)
    later = _shift(lot["expiresAt"], days=3)  # within the 30 days the last sweep already covered
    api.data("mutation($i: ExtendCreditLotInput!) { extendCreditLot(input: $i) { userErrors { code } } }",
             {"i": {"lotId": lot["id"], "expiresAt": later, "reason": "a little more"}}, token=admin)
    api.data(CLOCK, {"to": _shift(lot["expiresAt"], days=-24)}, token=admin)
    notices = feed(api, admin, ["CREDITS_EXPIRING_SOON"])
    assert [n["data"]["expiresAt"] for n in notices] == [lot["expiresAt"], later]


def test_the_feed_is_admin_only_and_refuses_a_foreign_cursor(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    assert codes(api.gql(FEED, token=token)) == ["FORBIDDEN"]
    assert codes(api.gql(FEED)) == ["UNAUTHENTICATED"]
    for cursor in ["nope", "TGVkZ2VyRW50cnk6MQ", ""]:
        assert codes(api.gql(FEED, {"after": cursor}, token=admin)) == ["BAD_USER_INPUT"], cursor
    first = api.data(FEED, {"first": 1}, token=admin)["events"]
    rest = api.data(FEED, {"after": first["pageInfo"]["endCursor"]}, token=admin)["events"]
    assert [e["node"]["type"] for e in first["edges"] + rest["edges"]] == ["MEMBER_SIGNED_UP", "LEDGER_ENTRY_ADDED"]
    event_id = first["edges"][0]["node"]["id"]
    node = api.data("query($id: ID!) { node(id: $id) { ... on Event { type } } }", {"id": event_id}, token=admin)
    assert node["node"] == {"type": "MEMBER_SIGNED_UP"}
    assert api.data("query($id: ID!) { node(id: $id) { id } }", {"id": event_id}, token=token)["node"] is None


def test_retention_prunes_old_events_and_refuses_a_cursor_before_it(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    old = api.data(FEED, {"first": 1}, token=admin)["events"]["pageInfo"]["endCursor"]
    joined = api.data("{ viewer { joinedAt } }", token=token)["viewer"]["joinedAt"]
    api.data(CLOCK, {"to": f"{joined[:5]}{int(joined[5:7]) % 12 + 1:02d}{joined[7:]}" if joined[5:7] != "12"
                     else f"{int(joined[:4]) + 1}-01{joined[7:]}"}, token=admin)  # a month on
    api.data(CLOCK, {"to": f"{int(joined[:4]) + 1}{joined[4:]}"}, token=admin)  # a year on: a new event or two
    body = api.gql(FEED, {"after": old}, token=admin)
    assert codes(body) == ["BAD_USER_INPUT"] and "older than the events kept" in body["errors"][0]["message"]
    kept = feed(api, admin)
    assert kept and all(e["type"] != "MEMBER_SIGNED_UP" for e in kept)  # the sign-up, a year old, is gone


@pytest.mark.anyio
async def test_a_write_that_rolls_back_announces_nothing(database: str) -> None:
    from invite_credits.domain.policy import Policy, Reason
    from invite_credits.service import ledger
    from invite_credits.store.protocol import Tx

    from .conftest import T0, join, open_database

    db = open_database(database, test_clock=True, test_start=T0)
    await db.open()
    try:
        from invite_credits.service import Service

        service = Service(db)
        ann = await join(service, "ann@example.com")
        before = service.events(100, None, None)[0]

        def grant_then_fail(tx: Tx) -> None:
            ledger.grant(tx, Policy(), ann, Reason.DISCUSSION, 1)
            raise RuntimeError("the rest of the write failed")

        with pytest.raises(RuntimeError):
            await db.write(grant_then_fail)
        assert service.events(100, None, None)[0] == before
    finally:
        await db.close()
