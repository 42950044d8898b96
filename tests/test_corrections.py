"""Corrections, history and tamper evidence through the API, on both stores: reversals, lot extensions, the
audit log, balances in the past, the hash chain and the CSV export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from invite_credits.settings import Settings

from .conftest import violations
from .http import Api, codes

ENTRY = "id reason amount requested balanceAfter occurredAt note hash reverses { id } reversedBy { id }"
LEDGER = f"query {{ viewer {{ balance {{ id available }} ledger(first: 100) {{ edges {{ node {{ {ENTRY} }} }} }} }} }}"
REVERSE = f"""mutation($i: ReverseLedgerEntryInput!) {{ reverseLedgerEntry(input: $i) {{
  ledgerEntry {{ {ENTRY} creditLot {{ id reason amount remaining expiresAt }} }}
  reversed {{ {ENTRY} }} balance {{ id available }} userErrors {{ code field }} }} }}"""
EXTEND = f"""mutation($i: ExtendCreditLotInput!) {{ extendCreditLot(input: $i) {{
  creditLot {{ id expiresAt remaining }} ledgerEntry {{ {ENTRY} }} balance {{ id available }}
  userErrors {{ code field }} }} }}"""
LOTS = "query { viewer { creditLots(includeSpent: true) { edges { node { id reason amount remaining grantedAt expiresAt } } } } }"
SEND = "mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { invitation { id status } userErrors { code } } }"
CLOCK = "mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { now userErrors { code } } }"
AUDIT = """query($m: ID, $after: String) { auditLog(memberId: $m, first: 50, after: $after) {
  edges { cursor node { id at actor action member { id } reason requestId details } } pageInfo { hasNextPage } } }"""


def entries(api: Api, token: str) -> list[dict[str, Any]]:
    return [e["node"] for e in api.data(LEDGER, token=token)["viewer"]["ledger"]["edges"]]


def reverse(api: Api, admin: str, entry_id: str, reason: str = "support ticket 42", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(REVERSE, {"i": {"entryId": entry_id, "reason": reason, **extra}},
                                       token=admin)["reverseLedgerEntry"]
    return payload


def lots(api: Api, token: str) -> list[dict[str, Any]]:
    return [e["node"] for e in api.data(LOTS, token=token)["viewer"]["creditLots"]["edges"]]


def test_reversing_a_spend_gives_the_credit_back_as_a_lot_expiring_with_the_original(
        api: Api, admin: str, settings: Settings) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    bob, _ = api.sign_up("bob@example.com", "Bob")
    sent = api.data(SEND, {"i": {"inviteeId": bob}}, token=token)["sendInvitation"]
    spend = entries(api, token)[0]
    assert spend["reason"] == "INVITATION_SENT"
    payload = reverse(api, admin, spend["id"])
    assert payload["userErrors"] == []
    reversal = payload["ledgerEntry"]
    assert (reversal["reason"], reversal["amount"], reversal["requested"], reversal["balanceAfter"]) == (
        "REVERSAL", 1, 1, 15)
    assert reversal["reverses"] == {"id": spend["id"]} and reversal["note"] == "support ticket 42"
    assert payload["reversed"]["id"] == spend["id"] and payload["reversed"]["reversedBy"] == {"id": reversal["id"]}
    assert payload["balance"]["available"] == 15
    # The payload's balance is the live one: a client cache updates the one it holds.
    live = api.data(LEDGER, token=token)["viewer"]["balance"]
    assert payload["balance"]["id"] == live["id"] and live["available"] == 15
    signup_lot = next(lot for lot in lots(api, token) if lot["reason"] == "SIGNUP")
    assert reversal["creditLot"]["reason"] == "REVERSAL" and reversal["creditLot"]["amount"] == 1
    assert reversal["creditLot"]["expiresAt"] == signup_lot["expiresAt"]
    # Linked both ways when read back, and the invitation keeps its status.
    newest, original = entries(api, token)[:2]
    assert newest["reverses"] == {"id": original["id"]} and original["reversedBy"] == {"id": newest["id"]}
    invitation = api.data("query($id: ID!) { invitation(id: $id) { status } }",
                          {"id": sent["invitation"]["id"]}, token=token)["invitation"]
    assert invitation["status"] == "PENDING"
    again = reverse(api, admin, spend["id"])
    assert again["userErrors"] == [{"code": "ALREADY_REVERSED", "field": ["input", "entryId"]}]
    assert again["ledgerEntry"] is None
    assert reverse(api, admin, reversal["id"])["userErrors"][0]["code"] == "NOT_REVERSIBLE"
    assert violations(settings) == []


def test_reversing_a_grant_writes_off_what_is_left_of_its_lot(api: Api, admin: str, settings: Settings) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    bob, _ = api.sign_up("bob@example.com", "Bob")
    api.data(SEND, {"i": {"inviteeId": bob}}, token=token)
    signup = entries(api, token)[-1]
    payload = reverse(api, admin, signup["id"], "fraudulent sign-up")
    entry = payload["ledgerEntry"]
    assert (entry["reason"], entry["amount"], entry["requested"], entry["balanceAfter"]) == ("REVERSAL", -14, -15, 0)
    assert payload["balance"]["available"] == 0
    [lot] = [lot for lot in lots(api, token) if lot["reason"] == "SIGNUP"]
    assert lot["remaining"] == 0
    assert violations(settings) == []


def test_a_spend_whose_lot_expired_comes_back_as_nothing_and_expired_entries_are_not_reversible(
        api: Api, admin: str, settings: Settings) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    bob, _ = api.sign_up("bob@example.com", "Bob")
    api.data(SEND, {"i": {"inviteeId": bob}}, token=token)
    spend = entries(api, token)[0]
    [lot] = lots(api, token)
    api.data(CLOCK, {"to": lot["expiresAt"]}, token=admin)
    expired = entries(api, token)[0]
    assert expired["reason"] == "EXPIRED"
    assert reverse(api, admin, expired["id"])["userErrors"][0]["code"] == "NOT_REVERSIBLE"
    payload = reverse(api, admin, spend["id"])
    assert (payload["ledgerEntry"]["amount"], payload["ledgerEntry"]["requested"]) == (0, 1)
    assert payload["balance"]["available"] == 0
    assert violations(settings) == []


def test_reversal_refusals_change_nothing(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    signup = entries(api, token)[0]
    for entry_id, reason, code, field in [
        ("nope", "why", "NOT_FOUND", ["input", "entryId"]),
        (signup["id"], " ", "INVALID_INPUT", ["input", "reason"]),
        (signup["id"], "x" * 301, "INVALID_INPUT", ["input", "reason"]),
    ]:
        assert reverse(api, admin, entry_id, reason)["userErrors"] == [{"code": code, "field": field}]
    body = api.gql(REVERSE, {"i": {"entryId": signup["id"], "reason": "mine"}}, token=token)
    assert codes(body) == ["FORBIDDEN"]
    assert entries(api, token) == [signup]


def test_a_repeated_key_replays_the_reversal(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    signup = entries(api, token)[0]
    first = reverse(api, admin, signup["id"], idempotencyKey="k1")
    assert first == reverse(api, admin, signup["id"], idempotencyKey="k1")
    assert len(entries(api, token)) == 2


def test_extending_a_lot_moves_its_expiry_later_and_the_sweep_honours_it(
        api: Api, admin: str, settings: Settings) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    [lot] = lots(api, token)
    later = f"{int(lot['expiresAt'][:4]) + 1}{lot['expiresAt'][4:]}"  # 24 months after the grant: the limit
    payload = api.data(EXTEND, {"i": {"lotId": lot["id"], "expiresAt": later, "reason": "goodwill"}},
                       token=admin)["extendCreditLot"]
    assert payload["userErrors"] == [] and payload["creditLot"] == {"id": lot["id"], "expiresAt": later,
                                                                    "remaining": 15}
    entry = payload["ledgerEntry"]
    assert (entry["reason"], entry["amount"], entry["requested"], entry["note"]) == ("LOT_EXTENDED", 0, 0, "goodwill")
    assert payload["balance"]["available"] == 15
    api.data(CLOCK, {"to": lot["expiresAt"]}, token=admin)  # the old expiry passes: nothing expires
    assert api.data(LEDGER, token=token)["viewer"]["balance"]["available"] == 15
    for when, reason, code, field in [
        (lot["expiresAt"], "x", "EXPIRY_NOT_LATER", ["input", "expiresAt"]),
        (f"{int(later[:4]) + 1}{later[4:]}", "x", "INVALID_INPUT", ["input", "expiresAt"]),
        (later, "", "INVALID_INPUT", ["input", "reason"]),
    ]:
        refused = api.data(EXTEND, {"i": {"lotId": lot["id"], "expiresAt": when, "reason": reason}},
                           token=admin)["extendCreditLot"]
        assert refused["userErrors"] == [{"code": code, "field": field}]
    assert reverse(api, admin, entry["id"])["userErrors"][0]["code"] == "NOT_REVERSIBLE"
    api.data(CLOCK, {"to": later}, token=admin)
    assert entries(api, token)[0]["reason"] == "EXPIRED"
    refused = api.data(EXTEND, {"i": {"lotId": lot["id"], "expiresAt": later, "reason": "late"}},
                       token=admin)["extendCreditLot"]
    assert refused["userErrors"] == [{"code": "LOT_EXPIRED", "field": ["input", "lotId"]}]
    assert violations(settings) == []


def test_every_admin_action_is_audited_newest_first(api: Api, admin: str) -> None:
    ann, token = api.sign_up("ann@example.com", "Ann")
    bob, _ = api.sign_up("bob@example.com", "Bob")
    api.data("mutation($i: SetMemberTierInput!) { setMemberTier(input: $i) { userErrors { code } } }",
             {"i": {"memberId": ann, "tier": "PREMIUM"}}, token=admin)
    api.data("mutation($i: AdjustCreditsInput!) { adjustCredits(input: $i) { userErrors { code } } }",
             {"i": {"memberId": ann, "amount": 5, "note": "welcome back"}}, token=admin)
    api.data("mutation { createCompany(input: {name: \"Acme\", slug: \"acme\"}) { userErrors { code } } }",
             token=admin)
    reverse(api, admin, entries(api, token)[0]["id"], "adjusted twice")
    api.data("mutation { advanceTestClock(input: {to: \"2099-01-01T00:00:00Z\"}) { userErrors { code } } }",
             token=admin)
    api.data("mutation($i: SignOutEverywhereInput!) { signOutEverywhere(input: $i) { userErrors { code } } }",
             {"i": {"memberId": bob}}, token=admin)
    response = api.client.post("/graphql", json={"query": AUDIT}, headers={
        "authorization": f"Bearer {admin}", "x-request-id": "audit-test-1"})
    records = [e["node"] for e in response.json()["data"]["auditLog"]["edges"]]
    assert [r["action"] for r in records] == ["SIGNED_OUT_EVERYWHERE", "TEST_CLOCK_ADVANCED", "ENTRY_REVERSED",
                                              "COMPANY_CREATED", "CREDITS_ADJUSTED", "TIER_CHANGED"]
    assert all(r["actor"] == "admin" and r["requestId"] for r in records)
    tier = records[-1]
    assert tier["member"] == {"id": ann} and tier["details"]["before"] == {"tier": "FREE"}
    assert tier["details"]["after"] == {"tier": "PREMIUM"}
    reversed_record = records[2]
    assert reversed_record["reason"] == "adjusted twice"
    assert reversed_record["details"]["before"] == {"available": 20}
    assert reversed_record["details"]["after"] == {"available": 15}
    mine = api.data(AUDIT, {"m": ann}, token=admin)["auditLog"]["edges"]
    assert [e["node"]["action"] for e in mine] == ["ENTRY_REVERSED", "CREDITS_ADJUSTED", "TIER_CHANGED"]
    # The client's request id is the one recorded.
    api.client.post("/graphql", json={"query": "mutation { createCompany(input: {name: \"B\", slug: \"b\"}) { "
                                               "userErrors { code } } }"},
                    headers={"authorization": f"Bearer {admin}", "x-request-id": "req-77"})
    assert api.data(AUDIT, token=admin)["auditLog"]["edges"][0]["node"]["requestId"] == "req-77"
    assert codes(api.gql(AUDIT, token=token)) == ["FORBIDDEN"]
    assert codes(api.gql(AUDIT)) == ["UNAUTHENTICATED"]


def test_a_past_balance_has_its_own_id_and_the_future_is_refused(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    bob, _ = api.sign_up("bob@example.com", "Bob")
    joined = entries(api, token)[0]["occurredAt"]
    api.data(CLOCK, {"to": "2099-01-01T00:00:00Z"}, token=admin)
    query = "query($t: DateTime) { balance(asOf: $t) { id available expiringSoon nextExpiryAt asOf } }"
    live = api.data(query, {"t": None}, token=token)["balance"]
    then = api.data(query, {"t": joined}, token=token)["balance"]
    assert then["id"] != live["id"] and then["asOf"] == joined and then["available"] == 15
    assert then["nextExpiryAt"] is not None and then["expiringSoon"] == 0
    assert live["available"] == 0  # expired since
    before = api.data(query, {"t": "2001-01-01T00:00:00Z"}, token=token)["balance"]
    assert before["available"] == 0 and before["nextExpiryAt"] is None
    assert codes(api.gql(query, {"t": "2100-01-01T00:00:00Z"}, token=token)) == ["BAD_USER_INPUT"]
    member = api.data("query($id: ID!, $t: DateTime) { member(id: $id) { balance(asOf: $t) { available } } }",
                      {"id": bob, "t": joined}, token=admin)["member"]
    assert member["balance"]["available"] == 15


def test_balance_history_is_one_point_per_interval(api: Api, admin: str) -> None:
    ann, token = api.sign_up("ann@example.com", "Ann")
    start = entries(api, token)[0]["occurredAt"]
    api.data(CLOCK, {"to": f"{int(start[:4]) + 2}{start[4:]}"}, token=admin)
    query = """query($id: ID!, $f: DateTime!, $t: DateTime!, $i: HistoryInterval!) {
      member(id: $id) { balanceHistory(from: $f, to: $t, interval: $i) { at available } } }"""
    end = f"{int(start[:4]) + 1}{start[4:]}"
    months = api.data(query, {"id": ann, "f": start, "t": end, "i": "MONTH"}, token=token)["member"]["balanceHistory"]
    assert len(months) == 13 and months[0] == {"at": start, "available": 15}
    assert months[-1] == {"at": end, "available": 0}  # expired at its anniversary, as the sweep wrote it
    days = api.data(query, {"id": ann, "f": start, "t": end, "i": "DAY"}, token=token)["member"]["balanceHistory"]
    assert len(days) in (366, 367) and {p["available"] for p in days[:-1]} == {15}
    too_many = api.gql(query, {"id": ann, "f": start, "t": end, "i": "HOUR"}, token=token)
    assert codes(too_many) == ["BAD_USER_INPUT"]
    backwards = api.gql(query, {"id": ann, "f": end, "t": start, "i": "DAY"}, token=token)
    assert codes(backwards) == ["BAD_USER_INPUT"]
    # After now: what the balance will be if nothing else happens (the expiries due by then).
    fresh, fresh_token = api.sign_up("new@example.com")
    now = entries(api, fresh_token)[0]["occurredAt"]
    ahead = api.data(query, {"id": fresh, "f": now, "t": f"{int(now[:4]) + 2}{now[4:]}", "i": "MONTH"},
                     token=fresh_token)["member"]["balanceHistory"]
    assert [p["available"] for p in ahead] == [15] * 12 + [0] * 13


def _canonical(member: str, e: dict[str, Any]) -> bytes:
    """docs/rules.md "The hash chain": recomputed here from what the API returns, with json and hashlib only."""
    def ref(name: str) -> str | None:
        value = e.get(name)
        return value["id"] if value else None

    fields = {
        "amount": e["amount"], "balanceAfter": e["balanceAfter"], "company": ref("company"),
        "contactsCount": e["contactsCount"], "creditLot": ref("creditLot"), "invitation": ref("invitation"),
        "member": member, "note": e["note"], "occurredAt": e["occurredAt"], "post": ref("post"),
        "reason": e["reason"], "referredMember": ref("referredMember"), "requested": e["requested"],
        "reverses": ref("reverses"),
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_anyone_can_recompute_the_hash_chain_from_the_api(api: Api, admin: str) -> None:
    ann, token = api.sign_up("ann@example.com", "Ånn")
    bob, _ = api.sign_up("bob@example.com", "Bob", referralCode=api.data(
        "{ viewer { referralCode } }", token=token)["viewer"]["referralCode"])
    api.data(SEND, {"i": {"inviteeId": bob}}, token=token)
    api.data("mutation($i: AdjustCreditsInput!) { adjustCredits(input: $i) { userErrors { code } } }",
             {"i": {"memberId": ann, "amount": -2, "note": "naïve \"quote\" ✓"}}, token=admin)
    reverse(api, admin, entries(api, token)[0]["id"])
    query = """{ viewer { ledgerHead { entries hash } ledger(first: 100) { edges { node {
      reason amount requested balanceAfter occurredAt note contactsCount hash
      company { id } creditLot { id } invitation { id } post { id } referredMember { id } reverses { id } } } } } }"""
    viewer = api.data(query, token=token)["viewer"]
    chain = [e["node"] for e in reversed(viewer["ledger"]["edges"])]
    previous = "0" * 64
    for entry in chain:
        previous = hashlib.sha256(previous.encode() + _canonical(ann, entry)).hexdigest()
        assert entry["hash"] == previous, entry
    assert viewer["ledgerHead"] == {"entries": len(chain), "hash": previous}
    fresh = api.data("{ viewer { ledgerHead { entries hash } } }", token=api.sign_up("c@example.com")[1])["viewer"]
    assert fresh["ledgerHead"]["entries"] == 1
    assert codes(api.gql("query($id: ID!) { member(id: $id) { ledgerHead { hash } } }", {"id": bob},
                         token=token)) == ["FORBIDDEN"]


def test_the_ledger_exports_as_csv_with_formulas_as_text(api: Api, admin: str) -> None:
    ann, token = api.sign_up("ann@example.com", "Ann")
    api.data("mutation($i: AdjustCreditsInput!) { adjustCredits(input: $i) { userErrors { code } } }",
             {"i": {"memberId": ann, "amount": -3, "note": "=HYPERLINK(\"http://evil\")"}}, token=admin)
    response = api.client.get("/ledger.csv", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["reason"] for r in rows] == ["SIGNUP", "ADMIN_ADJUSTMENT"]
    assert rows[1]["amount"] == "-3" and rows[1]["balance_after"] == "12"  # numbers stay numbers
    assert rows[1]["note"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["hash"] == entries(api, token)[0]["hash"] and rows[1]["seq"] == "2"
    by_admin = api.client.get("/ledger.csv", params={"memberId": ann}, headers={"authorization": f"Bearer {admin}"})
    assert by_admin.text == response.text
    bob, bob_token = api.sign_up("bob@example.com", "Bob")
    for headers, params, status, code in [
        ({}, {}, 401, "UNAUTHENTICATED"),
        ({"authorization": f"Bearer {bob_token}"}, {"memberId": ann}, 403, "FORBIDDEN"),
        ({"authorization": f"Bearer {admin}"}, {"memberId": "nope"}, 404, "NOT_FOUND"),
        ({"authorization": f"Bearer {admin}"}, {}, 400, "BAD_USER_INPUT"),
        ({"authorization": f"Bearer {token}"}, {"since": "yesterday"}, 400, "BAD_USER_INPUT"),
    ]:
        refused = api.client.get("/ledger.csv", params=params, headers=headers)
        assert refused.status_code == status and refused.json()["errors"][0]["extensions"]["code"] == code
    since = api.client.get("/ledger.csv", params={"since": "2099-01-01T00:00:00Z"},
                           headers={"authorization": f"Bearer {token}"})
    assert since.text.count("\r\n") == 1  # the header row only


def test_graphiqls_example_document_with_its_reversal_is_valid() -> None:
    from graphql import parse, validate

    from invite_credits.api.internals import graphql_schema
    from invite_credits.api.schema import create_schema
    from invite_credits.http.graphiql import EXAMPLE

    assert validate(graphql_schema(create_schema()), parse(EXAMPLE)) == []
    assert "reverseLedgerEntry" in EXAMPLE
