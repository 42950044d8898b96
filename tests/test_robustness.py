"""No input reaches an internal error: any text as an ID or a cursor, any JSON as a body, any request shape."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.domain import ids
from invite_credits.domain.policy import Policy
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .http import Api, codes

SECRET = "robustness-secret-that-is-long-enough-for-hs256"
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Text that is almost an ID: every way of spelling a key that is not the one canonical spelling.
NEAR_KEYS = st.sampled_from(["999999", "²", "１２", "٣", "01", "-1", "+1", "1.0", " 1", "1 ", "0", "9" * 19, "9" * 400,
                             "1e3", "", "١", "𝟏"])
NEAR_IDS = st.builds(lambda kind, key, pad: b64(f"{kind}:{key}") + pad,
                     st.sampled_from(["Member", "Invitation", "Company", "LedgerEntry", "CreditLot", "Nope", ""]),
                     NEAR_KEYS, st.sampled_from(["", "=", "==", "\n", "!"]))
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                        max_leaves=8)
JSON_CURSORS = st.builds(lambda kind, value: b64(f"{kind}:{json.dumps(value)}"),
                         st.sampled_from(["CompanyCursor", "LedgerEntryCursor", "X"]), ANY_JSON)
ANY_ID_TEXT = st.text() | NEAR_IDS | JSON_CURSORS


# -- the decoders, as functions --------------------------------------------------------------------------------
@given(ANY_ID_TEXT)
@EXAMPLES
def test_every_decoder_is_total_and_accepts_only_its_own_spelling(value: str) -> None:
    parsed = ids.parse(value)
    if parsed is not None:
        assert ids.encode(*parsed) == value
    for kind in ("Member", "Invitation", "Company", "LedgerEntryCursor"):
        key = ids.decode(kind, value)
        assert key is None or (ids.encode(kind, key) == value and 0 < key < 10**18)
    pair = ids.decode_pair("CompanyCursor", value)
    assert pair is None or ids.encode_pair("CompanyCursor", *pair) == value


@pytest.mark.parametrize("key", ["²", "１", "01", "-1", "9" * 19, "1 ", "٣"])
def test_one_member_has_one_id(key: str) -> None:
    assert ids.member_id(b64(f"Member:{key}")) is None
    assert ids.member_id(ids.encode("Member", 7)) == 7
    assert ids.member_id(ids.encode("Member", 7) + "=") is None


@given(st.text(max_size=Policy().name_max_length), st.integers(min_value=1, max_value=10**18 - 1))
@EXAMPLES
def test_company_cursors_round_trip(name: str, key: int) -> None:
    """Any name a company may have (control characters too, whose JSON escapes are longest) gives a cursor that
    reads back: a hundred characters of four bytes each once gave one longer than an ID may be."""
    assert ids.decode_pair("CompanyCursor", ids.encode_pair("CompanyCursor", name, key)) == (name, key)


def test_the_longest_company_names_give_cursors_that_read_back() -> None:
    longest = Policy().name_max_length
    for name in ["𝔸" * longest, "社" * longest, '"' * longest, "\x1f" * longest]:
        assert ids.decode_pair("CompanyCursor", ids.encode_pair("CompanyCursor", name, 10**18 - 1)) == (name, 10**18 - 1)


# -- the same, over HTTP, for every ID argument and every `after` -----------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str, str]]:
    db = Path(tmp_path_factory.mktemp("robust")) / "r.db"
    app = create_app(Settings(db_path=db, jwt_secret=SECRET, test_clock=True, synchronous="OFF",
                              member_mutations_per_minute=0, anonymous_requests_per_minute=0, signups_per_hour=0,
                              sweep_interval_seconds=3600))
    with TestClient(app) as client:
        api = Api(client)
        _, member = api.sign_up("robust@example.com")
        yield api, member, auth.admin_token(SECRET, 3600)


ID_QUERIES = ["query($v: ID!) { node(id: $v) { id } }", "query($v: ID!) { member(id: $v) { id } }",
              "query($v: ID!) { invitation(id: $v) { id } }", "query($v: ID) { balance(memberId: $v) { available } }",
              "query($v: ID) { ledger(memberId: $v) { edges { cursor } } }"]
ID_MUTATIONS = [
    ("followCompany", "companyId", ""), ("unfollowCompany", "companyId", ""), ("sendInvitation", "inviteeId", ""),
    ("acceptInvitation", "invitationId", ""), ("declineInvitation", "invitationId", ""),
    ("withdrawInvitation", "invitationId", ""), ("followUpInvitation", "invitationId", ', message: "hi"'),
    ("setMemberTier", "memberId", ", tier: PREMIUM"), ("adjustCredits", "memberId", ', amount: 1, note: "n"'),
]
AFTER_QUERIES = [
    "query($v: String) { viewer { ledger(after: $v) { edges { cursor } } } }",
    "query($v: String) { viewer { creditLots(after: $v) { edges { cursor } } } }",
    "query($v: String) { viewer { invitationsSent(after: $v) { edges { cursor } } } }",
    "query($v: String) { viewer { invitationsReceived(after: $v) { edges { cursor } } } }",
    "query($v: String) { viewer { connections(after: $v) { edges { cursor } } } }",
    "query($v: String) { companies(after: $v) { edges { cursor } } }",
]


def _no_internal_error(body: dict[str, Any]) -> None:
    assert "INTERNAL_SERVER_ERROR" not in codes(body), body


@given(value=ANY_ID_TEXT)
@EXAMPLES
def test_any_text_as_an_id_is_not_found(world: tuple[Api, str, str], value: str) -> None:
    api, member, admin = world
    for query in ID_QUERIES:
        body = api.gql(query, {"v": value}, token=admin)
        _no_internal_error(body)
        assert body["data"] is not None and list(body["data"].values()) == [None], body
    for name, argument, rest in ID_MUTATIONS:
        token = admin if name in ("setMemberTier", "adjustCredits") else member
        mutation = f"mutation($v: ID!) {{ {name}(input: {{{argument}: $v{rest}}}) {{ userErrors {{ code field }} }} }}"
        body = api.gql(mutation, {"v": value}, token=token)
        _no_internal_error(body)
        assert body["data"][name]["userErrors"] == [{"code": "NOT_FOUND", "field": ["input", argument]}], body


@given(value=ANY_ID_TEXT)
@EXAMPLES
def test_any_text_as_a_cursor_is_bad_user_input(world: tuple[Api, str, str], value: str) -> None:
    api, member, _ = world
    parsed = ids.parse(value)
    assume(parsed is None or not parsed[0].endswith("Cursor"))  # a well-formed keyset position is a real cursor
    for query in AFTER_QUERIES:
        body = api.gql(query, {"v": value}, token=member)
        assert codes(body) == ["BAD_USER_INPUT"], (query, body)


@pytest.mark.parametrize("first", [101, 1000, 10**6, 2**31 - 1, -1, -(2**31)])
def test_first_out_of_bounds_is_bad_user_input_whatever_its_size(world: tuple[Api, str, str], first: int) -> None:
    api, member, _ = world
    for query in ("query($n: Int) { viewer { ledger(first: $n) { edges { cursor } } } }",
                  "query($n: Int) { viewer { connections(first: $n) { edges { node { connections(first: $n) "
                  "{ edges { cursor } } } } } } }"):
        assert codes(api.gql(query, {"n": first}, token=member)) == ["BAD_USER_INPUT"]
    literal = f"{{ viewer {{ ledger(first: {first}) {{ edges {{ cursor }} }} }} }}"
    assert codes(api.gql(literal, token=member)) == ["BAD_USER_INPUT"]


# -- every request shape ------------------------------------------------------------------------------------------
BODIES = [b"null", b"5", b'"x"', b"true", b"[]", b'[{"query": "{ policy { balanceCap } }"}]', b"{", b"\xff\xfe",
          b'{"query": 5}', b'{"query": "{ policy { balanceCap } }", "variables": [1]}',
          b'{"query": "{ policy { balanceCap } }", "operationName": 7}', b'{"query": null}', b"{}",
          b'{"query": "{ policy { balanceCap } }", "extensions": "x"}']


def _graphql_shaped(response: Any, statuses: set[int]) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["x-request-id"]
    body = response.json()
    assert isinstance(body["errors"], list) and body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] != "INTERNAL_SERVER_ERROR"


@pytest.mark.parametrize("body", BODIES)
def test_any_json_body_gets_a_graphql_shaped_4xx(world: tuple[Api, str, str], body: bytes) -> None:
    api, _, _ = world
    for accept in ("application/json", "application/graphql-response+json"):
        response = api.client.post("/graphql", content=body,
                                   headers={"content-type": "application/json", "accept": accept})
        _graphql_shaped(response, {400})


@given(body=ANY_JSON)
@EXAMPLES
def test_any_json_value_as_a_body_is_answered_cleanly(world: tuple[Api, str, str], body: Any) -> None:
    api, _, _ = world
    response = api.client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code in (200, 400) and response.headers["x-request-id"], response.text
    assert "INTERNAL_SERVER_ERROR" not in codes(response.json())


@pytest.mark.parametrize(("method", "headers", "content", "statuses"), [
    ("POST", {"content-type": "text/plain"}, b"{ policy { balanceCap } }", {415}),
    ("POST", {"content-type": "application/xml"}, b"<q/>", {415}),
    ("POST", {}, b"", {415}),
    ("PUT", {"content-type": "application/json"}, b'{"query": "{ policy { balanceCap } }"}', {405}),
    ("DELETE", {}, b"", {405}),
    ("PATCH", {}, b"", {405}),
    ("GET", {"accept": "application/json"}, b"", {400, 404}),
])
def test_any_method_and_content_type_gets_a_graphql_shaped_answer(world: tuple[Api, str, str], method: str,
                                                                   headers: dict[str, str], content: bytes,
                                                                   statuses: set[int]) -> None:
    api, _, _ = world
    _graphql_shaped(api.client.request(method, "/graphql", content=content, headers=headers), statuses)


def test_get_with_bad_variables_is_a_graphql_shaped_400(world: tuple[Api, str, str]) -> None:
    api, _, _ = world
    for variables in ("5", "[", "null", '"x"'):
        response = api.client.get("/graphql", params={"query": "{ policy { balanceCap } }", "variables": variables})
        assert response.status_code in (200, 400)
        assert "errors" in response.json() or response.json()["data"]


def test_a_refused_token_is_graphql_shaped_counted_and_logged_without_the_token(
        world: tuple[Api, str, str], caplog: pytest.LogCaptureFixture) -> None:
    api, _, _ = world
    bogus = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LWJ1dC13cm9uZw"
    with caplog.at_level(logging.WARNING, logger="invite_credits.http"):
        for accept, media in (("application/graphql-response+json", "application/graphql-response+json"),
                              (None, "application/json")):
            headers = {"authorization": f"Bearer {bogus}", **({"accept": accept} if accept else {})}
            response = api.client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
            assert response.status_code == 401 and response.headers["content-type"].startswith(media)
            assert response.headers["x-request-id"] and codes(response.json()) == ["UNAUTHENTICATED"]
    assert any(r.getMessage() == "token refused" for r in caplog.records)
    assert bogus not in caplog.text
    assert 'invite_credits_tokens_refused_total{reason="invalid"}' in api.client.get("/metrics").text


def test_made_up_operation_names_add_no_metric_series(world: tuple[Api, str, str]) -> None:
    api, member, _ = world

    def series() -> int:
        return sum(line.startswith("invite_credits_graphql_requests_total{")
                   for line in api.client.get("/metrics").text.splitlines())

    api.gql("query A { viewer { id } }", token=member)
    api.gql("query A { nope }", token=member)
    before = series()
    for i in range(1000):
        api.gql(f"query Made{i}Up {{ viewer {{ id }} }}", token=member)
        api.gql(f"query Bad{i} {{ nope{i} }}", token=member)
    assert series() == before


def test_logs_name_the_member_by_the_api_id(world: tuple[Api, str, str], caplog: pytest.LogCaptureFixture) -> None:
    api, member, _ = world
    with caplog.at_level(logging.INFO, logger="invite_credits.request"):
        body = api.data("{ viewer { id } }", token=member)
    fields = [getattr(r, "fields", {}) for r in caplog.records if r.getMessage() == "graphql"]
    assert fields[-1]["member_id"] == body["viewer"]["id"]


def test_every_bad_field_of_one_input_is_reported_and_nothing_happens(world: tuple[Api, str, str]) -> None:
    api, member, admin = world
    signed = api.data('mutation { signUp(input: {email: "not-an-email", name: "  "}) { member { id } '
                      'userErrors { code field } } }')["signUp"]
    assert signed == {"member": None, "userErrors": [{"code": "INVALID_INPUT", "field": ["input", "email"]},
                                                     {"code": "INVALID_INPUT", "field": ["input", "name"]}]}
    profile = api.data('mutation { updateProfile(input: {name: "", headline: "' + "h" * 221 + '", '
                       'experience: [{title: "", organization: "Acme"}], skills: ["ok", " "]}) '
                       '{ userErrors { field } } }', token=member)["updateProfile"]["userErrors"]
    assert [e["field"] for e in profile] == [["input", "name"], ["input", "headline"],
                                             ["input", "experience", "0", "title"], ["input", "skills", "1"]]
    contacts = api.data('mutation { importContacts(input: {contacts: [{email: "a@example.com"}, {email: "bad"}, '
                        '{email: "also bad"}]}) { imported userErrors { field } } }', token=member)["importContacts"]
    assert contacts == {"imported": 0, "userErrors": [{"field": ["input", "contacts", "1", "email"]},
                                                      {"field": ["input", "contacts", "2", "email"]}]}
    adjusted = api.data('mutation { adjustCredits(input: {memberId: "x", amount: 0, note: ""}) '
                        '{ userErrors { field } } }', token=admin)["adjustCredits"]["userErrors"]
    assert [e["field"] for e in adjusted] == [["input", "amount"], ["input", "note"]]
    company = api.data('mutation { createCompany(input: {name: "", slug: "Not A Slug"}) { userErrors { field } } }',
                       token=admin)["createCompany"]["userErrors"]
    assert [e["field"] for e in company] == [["input", "name"], ["input", "slug"]]
    assert api.data("{ viewer { balance { available } } }", token=member)["viewer"]["balance"]["available"] == 15


@given(text=st.text(max_size=40))
@EXAMPLES
def test_any_text_in_any_text_field_is_answered_cleanly(world: tuple[Api, str, str], text: str) -> None:
    """Found by the long fuzz: a NUL ends a text for SQL's length(), so the database's own CHECK refused a body the
    code had taken as non-blank. Control characters are refused as INVALID_INPUT before any write."""
    api, member, admin = world
    for query, token in (
        ("mutation($t: String!) { postDiscussion(input: {body: $t, kind: POST}) { userErrors { code } } }", member),
        ("mutation($t: String!) { updateProfile(input: {headline: $t, name: $t}) { userErrors { code } } }", member),
        ("mutation($t: String!) { signUp(input: {email: \"t@example.com\", name: $t}) { userErrors { code } } }", None),
        ("mutation($t: String!) { createCompany(input: {name: $t, slug: \"s\"}) { userErrors { code } } }", admin),
    ):
        body = api.gql(query, {"t": text}, token=token)
        assert "errors" not in body, body
        for payload in body["data"].values():
            assert {e["code"] for e in payload["userErrors"]} <= {"INVALID_INPUT", "EMAIL_TAKEN"}, payload
