"""The HTTP app end to end, as a frontend uses it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .conftest import settings_on, violations
from .http import Api, codes

SECRET = "test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def settings(database: str) -> Settings:
    """The app on each store: a SQLite file, or a fresh PostgreSQL database."""
    return settings_on(database, jwt_secret=SECRET, test_clock=True, synchronous="NORMAL", sweep_interval_seconds=3600)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client)


@pytest.fixture
def admin() -> str:
    return auth.admin_token(SECRET, 3600)


LEDGER = """
query($first: Int, $after: String, $reasons: [LedgerReason!]) {
  viewer {
    balance { available unlimited cap expiringSoon nextExpiryAt asOf }
    ledger(first: $first, after: $after, reasons: $reasons) {
      edges { cursor node { id reason amount requested balanceAfter occurredAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
    creditLots(includeSpent: true) { edges { node { id reason amount remaining grantedAt expiresAt expired } } }
  }
}"""


def test_health(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_graphiql_on_a_browser_get(api: Api) -> None:
    page = api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # It opens on this service's example (viewer, balance, ledger and a subscription), not GraphiQL's welcome.
    assert "subscription LiveBalance" in page.text and "ledger(first: 10)" in page.text
    assert "mutation Reverse($entryId: ID!)" in page.text and "reverseLedgerEntry" in page.text
    assert "Welcome to GraphiQL" not in page.text


def test_sign_up_then_balance_lot_and_ledger(api: Api) -> None:
    member_id, token = api.sign_up("ann@example.com", "Ann")
    viewer = api.data(LEDGER, token=token)["viewer"]
    assert viewer["balance"]["available"] == 15 and viewer["balance"]["cap"] == 200
    [edge] = viewer["ledger"]["edges"]
    assert edge["node"]["reason"] == "SIGNUP" and edge["node"]["amount"] == 15
    [lot] = viewer["creditLots"]["edges"]
    assert lot["node"]["expiresAt"][:4] == str(int(lot["node"]["grantedAt"][:4]) + 1)
    assert lot["node"]["expiresAt"].endswith("Z") and lot["node"]["expired"] is False


def test_a_query_shows_the_viewer_its_token_check_read(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from invite_credits.store import statements

    member_id, token = api.sign_up("vic@example.com", "Vic")
    api.data("mutation { updateProfile(input: {headline: \"Now\"}) { member { headline } } }", token=token)
    read: list[str] = []
    one = statements.Statements.one

    def counted(self: Any, query: str, /, **params: Any) -> Any:
        read.append(query)
        return one(self, query, **params)

    monkeypatch.setattr(statements.Statements, "one", counted)
    viewer = api.data("{ viewer { id name headline balance { available } } }", token=token)["viewer"]
    assert viewer == {"id": member_id, "name": "Vic", "headline": "Now", "balance": {"available": 15}}
    assert read.count("member_by_id") == 1 and "member_session" not in read, read


def test_sign_up_refusals_are_user_errors(api: Api) -> None:
    api.sign_up("ann@example.com")
    for email, name, code, field in [
        ("nope", "A", "INVALID_INPUT", ["input", "email"]),
        ("b@example.com", " ", "INVALID_INPUT", ["input", "name"]),
        ("ANN@example.com", "A", "EMAIL_TAKEN", ["input", "email"]),
    ]:
        payload = api.data("mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token userErrors { code field } } }",
                           {"i": {"email": email, "name": name}})["signUp"]
        assert payload == {"member": None, "token": None, "userErrors": [{"code": code, "field": field}]}


def test_test_clock_across_expiry(api: Api, admin: str, settings: Settings) -> None:
    _, token = api.sign_up("ann@example.com")
    lot = api.data(LEDGER, token=token)["viewer"]["creditLots"]["edges"][0]["node"]
    moved = api.data("mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { now userErrors { code } } }",
                     {"to": lot["expiresAt"]}, token=admin)["advanceTestClock"]
    assert moved == {"now": lot["expiresAt"], "userErrors": []}
    viewer = api.data(LEDGER, token=token)["viewer"]
    assert viewer["balance"]["available"] == 0
    newest = viewer["ledger"]["edges"][0]["node"]
    assert (newest["reason"], newest["amount"], newest["balanceAfter"], newest["occurredAt"]) == (
        "EXPIRED", -15, 0, lot["expiresAt"])
    back = api.data("mutation { advanceTestClock(input: {to: \"2000-01-01T00:00:00Z\"}) { now userErrors { code } } }",
                    token=admin)["advanceTestClock"]
    assert back == {"now": None, "userErrors": [{"code": "TEST_CLOCK_BACKWARDS"}]}
    assert violations(settings) == []


def test_test_clock_is_off_by_default(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "off.db", jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        body = Api(client).data("mutation { advanceTestClock(input: {to: \"2099-01-01T00:00:00Z\"}) { now userErrors { code } } }",
                                token=auth.admin_token(SECRET, 60))
    assert body["advanceTestClock"]["userErrors"] == [{"code": "TEST_CLOCK_DISABLED"}]


def test_ledger_pages_with_opaque_cursors(api: Api, admin: str) -> None:
    member_id, token = api.sign_up("ann@example.com")
    for i in range(4):
        api.data("mutation($i: PostDiscussionInput!) { postDiscussion(input: $i) { userErrors { code } } }",
                 {"i": {"kind": "POST", "body": f"post {i}"}}, token=token)
    seen: list[str] = []
    after = None
    while True:
        page = api.data(LEDGER, {"first": 2, "after": after}, token=token)["viewer"]["ledger"]
        seen += [e["node"]["reason"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert page["edges"][-1]["cursor"] == after
    assert seen == ["DISCUSSION"] * 4 + ["SIGNUP"]
    only = api.data(LEDGER, {"reasons": ["SIGNUP"]}, token=token)["viewer"]["ledger"]["edges"]
    assert [e["node"]["reason"] for e in only] == ["SIGNUP"]
    # The admin reads the same ledger through Query.ledger.
    admin_view = api.data("query($m: ID!) { ledger(memberId: $m, first: 1) { edges { node { reason } } } }",
                          {"m": member_id}, token=admin)
    assert admin_view["ledger"]["edges"] == [{"node": {"reason": "DISCUSSION"}}]


@pytest.mark.parametrize("first", [-1, 101])
def test_first_out_of_bounds_is_bad_user_input(api: Api, first: int) -> None:
    _, token = api.sign_up("ann@example.com")
    body = api.gql(LEDGER, {"first": first}, token=token)
    assert codes(body) == ["BAD_USER_INPUT"]


def test_bad_cursor_is_bad_user_input(api: Api) -> None:
    _, token = api.sign_up("ann@example.com")
    assert codes(api.gql(LEDGER, {"after": "garbage"}, token=token)) == ["BAD_USER_INPUT"]


def test_first_zero_is_an_empty_page(api: Api) -> None:
    _, token = api.sign_up("ann@example.com")
    page = api.data(LEDGER, {"first": 0}, token=token)["viewer"]["ledger"]
    assert page["edges"] == [] and page["pageInfo"]["hasNextPage"] is True


def test_private_fields_are_null_and_forbidden_for_others(api: Api, admin: str) -> None:
    ann_id, _ = api.sign_up("ann@example.com", "Ann")
    _, bob = api.sign_up("bob@example.com", "Bob")
    query = "query($id: ID!) { member(id: $id) { name tier email balance { available } } }"
    body = api.gql(query, {"id": ann_id}, token=bob)
    assert body["data"]["member"] == {"name": "Ann", "tier": "FREE", "email": None, "balance": None}
    assert codes(body) == ["FORBIDDEN", "FORBIDDEN"]
    anonymous = api.gql(query, {"id": ann_id})
    assert codes(anonymous) == ["FORBIDDEN", "FORBIDDEN"]
    assert api.data(query, {"id": ann_id}, token=admin)["member"]["email"] == "ann@example.com"
    assert api.data(query, {"id": "not-an-id"})["member"] is None


def test_bad_and_expired_tokens_are_unauthenticated(api: Api) -> None:
    for token in ("garbage", auth.mint(SECRET, subject="x", role="member", ttl_seconds=-10),
                  auth.mint("another-secret-that-is-long-enough-too", subject="x", role="admin", ttl_seconds=60)):
        response = api.post("{ viewer { id } }", token=token)
        assert response.status_code == 401
        assert codes(response.json()) == ["UNAUTHENTICATED"]


def test_member_mutations_need_a_member(api: Api) -> None:
    body = api.gql("mutation { postDiscussion(input: {kind: POST, body: \"hi\"}) { userErrors { code } } }")
    assert codes(body) == ["UNAUTHENTICATED"] and body["data"] is None


def test_admin_mutations_are_forbidden_to_members(api: Api) -> None:
    ann_id, token = api.sign_up("ann@example.com")
    body = api.gql("mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: RECRUITER}) { member { tier } } }",
                   {"m": ann_id}, token=token)
    assert codes(body) == ["FORBIDDEN"]


def test_node_and_policy(api: Api) -> None:
    ann_id, token = api.sign_up("ann@example.com", "Ann")
    node = api.data("query($id: ID!) { node(id: $id) { id ... on Member { name } } }", {"id": ann_id})
    assert node["node"] == {"id": ann_id, "name": "Ann"}
    entry_id = api.data(LEDGER, token=token)["viewer"]["ledger"]["edges"][0]["node"]["id"]
    assert api.data("query($id: ID!) { node(id: $id) { id } }", {"id": entry_id})["node"] is None  # not yours
    assert api.data("query($id: ID!) { node(id: $id) { id } }", {"id": entry_id}, token=token)["node"] == {"id": entry_id}
    assert api.data("{ node(id: \"bm9wZQ\") { id } }")["node"] is None
    policy = api.data("{ policy { initialCredits initialCreditsAcademic balanceCap creditLifetimeMonths invitationCost "
                      "messageMaxLength earning { reason creditsPerAction period limit earned remaining } } }")["policy"]
    assert (policy["initialCredits"], policy["balanceCap"], policy["creditLifetimeMonths"]) == (15, 200, 12)
    discussion = next(r for r in policy["earning"] if r["reason"] == "DISCUSSION")
    assert discussion == {"reason": "DISCUSSION", "creditsPerAction": 1, "period": "MONTH", "limit": 10,
                          "earned": 0, "remaining": 10}


INVITE = """
mutation($i: SendInvitationInput!) {
  sendInvitation(input: $i) {
    invitation { id status message inviter { name } invitee { name } creditsSpent sentAt }
    ledgerEntry { reason amount invitation { id } }
    balance { available }
    userErrors { code message field }
  }
}"""
ANSWER = """
mutation($i: InvitationActionInput!) {
  %s(input: $i) {
    invitation { id status respondedAt followUpMessage }
    ledgerEntry { reason amount }
    balance { available }
    userErrors { code field }
  }
}"""


def test_invitation_flow_over_http(api: Api, admin: str) -> None:
    ann_id, ann = api.sign_up("ann@example.com", "Ann")
    bob_id, bob = api.sign_up("bob@example.com", "Bob")
    sent = api.data(INVITE, {"i": {"inviteeId": bob_id, "message": "Hello Bob", "idempotencyKey": "k-1"}},
                    token=ann)["sendInvitation"]
    assert sent["userErrors"] == [] and sent["balance"] == {"available": 14}
    assert sent["ledgerEntry"] == {"reason": "INVITATION_SENT", "amount": -1,
                                   "invitation": {"id": sent["invitation"]["id"]}}
    replay = api.data(INVITE, {"i": {"inviteeId": bob_id, "message": "Hello Bob", "idempotencyKey": "k-1"}},
                      token=ann)["sendInvitation"]
    assert replay == sent
    reused = api.data(INVITE, {"i": {"inviteeId": bob_id, "message": "changed", "idempotencyKey": "k-1"}},
                      token=ann)["sendInvitation"]
    assert reused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    inv = sent["invitation"]["id"]
    follow = api.data("mutation($i: FollowUpInvitationInput!) { followUpInvitation(input: $i) { invitation { followUpMessage } userErrors { code } } }",
                      {"i": {"invitationId": inv, "message": "Ping"}}, token=ann)["followUpInvitation"]
    assert follow == {"invitation": {"followUpMessage": "Ping"}, "userErrors": []}
    wrong = api.data(ANSWER % "acceptInvitation", {"i": {"invitationId": inv}}, token=ann)["acceptInvitation"]
    assert wrong["userErrors"] == [{"code": "FORBIDDEN", "field": ["input", "invitationId"]}]
    accepted = api.data(ANSWER % "acceptInvitation", {"i": {"invitationId": inv}}, token=bob)["acceptInvitation"]
    assert accepted["invitation"]["status"] == "ACCEPTED" and accepted["ledgerEntry"] == {
        "reason": "INVITATION_ACCEPTED", "amount": 1}
    assert accepted["balance"] == {"available": 16}
    conns = api.data("{ viewer { connections { edges { node { name } } } invitationsSent(status: ACCEPTED) { edges { node { id } } } } }",
                     token=ann)["viewer"]
    assert conns["connections"]["edges"] == [{"node": {"name": "Bob"}}]
    assert conns["invitationsSent"]["edges"] == [{"node": {"id": inv}}]
    assert api.data("query($id: ID!) { invitation(id: $id) { status } }", {"id": inv}, token=bob)["invitation"] == {
        "status": "ACCEPTED"}
    _, carl = api.sign_up("carl@example.com")
    assert api.data("query($id: ID!) { invitation(id: $id) { status } }", {"id": inv}, token=carl)["invitation"] is None
    again = api.data(INVITE, {"i": {"inviteeId": bob_id}}, token=ann)["sendInvitation"]
    assert again["userErrors"][0]["code"] == "ALREADY_CONNECTED"
    missing = api.data(INVITE, {"i": {"inviteeId": "garbage"}}, token=ann)["sendInvitation"]
    assert missing["userErrors"] == [{"code": "NOT_FOUND", "message": "No such member.", "field": ["input", "inviteeId"]}]


def test_earning_mutations_over_http(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com")
    imported = api.data("""mutation($i: ImportContactsInput!) { importContacts(input: $i) {
        imported ledgerEntry { reason amount requested } balance { available } userErrors { code field } } }""",
                        {"i": {"contacts": [{"email": "a@x.com"}, {"email": "A@X.com "}, {"email": "b@x.com", "name": "B"}]}},
                        token=token)["importContacts"]
    assert imported == {"imported": 2, "ledgerEntry": {"reason": "CONTACTS_IMPORTED", "amount": 2, "requested": 2},
                        "balance": {"available": 17}, "userErrors": []}
    bad = api.data("mutation($i: ImportContactsInput!) { importContacts(input: $i) { imported userErrors { code field } } }",
                   {"i": {"contacts": [{"email": "c@x.com"}, {"email": "broken"}]}}, token=token)["importContacts"]
    assert bad == {"imported": 0, "userErrors": [{"code": "INVALID_INPUT", "field": ["input", "contacts", "1", "email"]}]}
    company = api.data("mutation { createCompany(input: {name: \"Acme\", slug: \"acme\"}) { company { id slug } userErrors { code } } }",
                       token=admin)["createCompany"]["company"]
    followed = api.data("mutation($c: ID!) { followCompany(input: {companyId: $c}) { company { viewerFollows } ledgerEntry { amount company { slug } } } }",
                        {"c": company["id"]}, token=token)["followCompany"]
    assert followed == {"company": {"viewerFollows": True}, "ledgerEntry": {"amount": 1, "company": {"slug": "acme"}}}
    unfollowed = api.data("mutation($c: ID!) { unfollowCompany(input: {companyId: $c}) { company { viewerFollows } userErrors { code } } }",
                          {"c": company["id"]}, token=token)["unfollowCompany"]
    assert unfollowed == {"company": {"viewerFollows": False}, "userErrors": []}
    listed = api.data("{ companies(search: \"ac\") { edges { node { name } } pageInfo { hasNextPage } } }")["companies"]
    assert listed == {"edges": [{"node": {"name": "Acme"}}], "pageInfo": {"hasNextPage": False}}
    posted = api.data("mutation { postDiscussion(input: {kind: ARTICLE, body: \" Thoughts \"}) { post { kind body } ledgerEntry { amount } userErrors { code } } }",
                      token=token)["postDiscussion"]
    assert posted == {"post": {"kind": "ARTICLE", "body": "Thoughts"}, "ledgerEntry": {"amount": 1}, "userErrors": []}
    profile = api.data("""mutation($i: UpdateProfileInput!) { updateProfile(input: $i) {
        profile { headline completion skills experience { title } education { school degree } }
        ledgerEntry { reason amount } userErrors { code field } } }""",
                       {"i": {"headline": "Dev", "about": "About me", "location": "Oslo",
                              "experience": [{"title": "Dev", "organization": "Acme"}],
                              "education": [{"school": "NTNU"}], "skills": ["python", "sql", "graphql"]}},
                       token=token)["updateProfile"]
    assert profile["profile"]["completion"] == 100
    assert profile["ledgerEntry"] == {"reason": "PROFILE_COMPLETED", "amount": 15}
    too_long = api.data("mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { userErrors { code field } } }",
                        {"i": {"headline": "h" * 221}}, token=token)["updateProfile"]
    assert too_long["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "headline"]}]
    earning = api.data("{ viewer { earning { reason earned remaining } } }", token=token)["viewer"]["earning"]
    by_reason = {r["reason"]: (r["earned"], r["remaining"]) for r in earning}
    assert by_reason["CONTACTS_IMPORTED"] == (2, 498) and by_reason["COMPANY_FOLLOWED"] == (1, 49)
    assert by_reason["PROFILE_COMPLETED"] == (15, 0) and by_reason["DISCUSSION"] == (1, 9)


def test_admin_adjust_and_tier(api: Api, admin: str) -> None:
    ann_id, token = api.sign_up("ann@example.com")
    adjusted = api.data("mutation($m: ID!) { adjustCredits(input: {memberId: $m, amount: -20, note: \"fix\"}) { ledgerEntry { amount requested note } balance { available } userErrors { code } } }",
                        {"m": ann_id}, token=admin)["adjustCredits"]
    assert adjusted == {"ledgerEntry": {"amount": -15, "requested": -20, "note": "fix"}, "balance": {"available": 0},
                        "userErrors": []}
    tier = api.data("mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: RECRUITER}) { member { tier balance { unlimited } } } }",
                    {"m": ann_id}, token=admin)["setMemberTier"]
    assert tier == {"member": {"tier": "RECRUITER", "balance": {"unlimited": True}}}
    zero = api.data("mutation($m: ID!) { adjustCredits(input: {memberId: $m, amount: 0, note: \"x\"}) { userErrors { code field } } }",
                    {"m": ann_id}, token=admin)["adjustCredits"]
    assert zero["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "amount"]}]


@pytest.mark.parametrize(
    "document",
    [
        "{ viewer { id ",  # syntax error
        "{ nope }",  # validation error
        "query($d: DateTime!) { policy { balanceCap } }",  # missing variable
    ],
)
def test_malformed_documents_get_errors_without_internals(api: Api, document: str) -> None:
    response = api.post(document)
    text = response.text
    assert "Traceback" not in text and ".py" not in text and "sqlite" not in text.lower()
    assert response.json()["errors"]


def test_bad_datetime_variable_is_refused(api: Api, admin: str) -> None:
    body = api.gql("mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { now } }", {"to": "yesterday"},
                   token=admin)
    assert body["errors"] and "Traceback" not in str(body)


def test_unexpected_errors_are_masked_with_a_request_id(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from invite_credits.service import Service

    def boom(self: Any, member: Any) -> Any:
        raise RuntimeError("secret detail /path/to/file.py")

    _, token = api.sign_up("ann@example.com")
    monkeypatch.setattr(Service, "balance", boom)
    body = api.gql("{ viewer { balance { available } } }", token=token)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body)
    assert error["extensions"]["requestId"] in caplog.text and "secret detail" in caplog.text


def test_readyz_and_metrics(api: Api, admin: str) -> None:
    assert api.client.get("/readyz").json()["status"] == "ready"
    _, token = api.sign_up("ann@example.com")
    api.data("mutation { adjustCredits(input: {memberId: \"x\", amount: 1, note: \"n\"}) { userErrors { code } } }",
             token=admin)
    api.gql("{ nope }")
    api.gql("query Mine { viewer { balance { available } } }", token=token)
    text = api.client.get("/metrics").text
    assert 'invite_credits_credits_total{kind="granted"} 15.0' in text
    assert 'invite_credits_graphql_requests_total{operation="viewer",outcome="ok"} 1.0' in text
    assert 'invite_credits_graphql_requests_total{operation="other",outcome="rejected"} 1.0' in text
    assert "invite_credits_write_lock_wait_seconds_bucket" in text and "invite_credits_sweep_lag_seconds" in text


def test_json_logs_carry_the_request_id(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from invite_credits.observability.logs import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("invite_credits.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = api.post("{ policy { balanceCap } }")
    finally:
        logger.removeHandler(handler)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == response.headers["x-request-id"] and line["operation"] == "policy"
    assert line["outcome"] == "ok" and line["level"] == "info"


def test_graphiql_files_are_served_locally_when_installed(api: Api) -> None:
    from invite_credits.http import graphiql

    page = api.client.get("/graphql", headers={"accept": "text/html"}).text
    if not (graphiql.assets_dir() / "graphiql" / "package.json").exists():
        pytest.skip("web/graphiql is not installed: npm ci --prefix web/graphiql")
    assert "unpkg.com" not in page
    local = re.findall(r'(?:src|href)="(/graphiql-assets/[^"]+)"', page)
    assert len(local) == 7
    for url in local:
        response = api.client.get(url)
        assert response.status_code == 200 and len(response.content) > 100
    assert 'integrity="sha384-' in page  # the browser still checks every byte


def test_graphiql_falls_back_to_the_cdn(tmp_path: Path) -> None:
    from invite_credits.http import graphiql

    html = '<script src="https://unpkg.com/react@18.2.0/umd/react.production.min.js"></script>'
    assert graphiql.localize(html, tmp_path) == (html, 1)
    (tmp_path / "react" / "umd").mkdir(parents=True)
    (tmp_path / "react" / "package.json").write_text('{"version": "18.2.0"}')
    (tmp_path / "react" / "umd" / "react.production.min.js").write_text("x")
    assert graphiql.localize(html, tmp_path) == (
        '<script src="/graphiql-assets/react/umd/react.production.min.js"></script>', 0)


def test_readyz_proves_a_write(settings: Settings) -> None:
    if settings.postgres:
        pytest.skip("SQLite's read-only switch; test_postgres.py has PostgreSQL's")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        db = app.state.app_state.service.db
        db._writer.execute("PRAGMA query_only = ON")  # as a read-only file or a full disk would refuse it
        assert client.get("/readyz").status_code == 503
        db._writer.execute("PRAGMA query_only = OFF")
        assert client.get("/readyz").status_code == 200
