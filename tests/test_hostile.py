"""Hostile clients get nothing: no document freezes a process, the trusted-documents lock-down holds on every
transport, cost is priced with the values that run, a token stays its member's, and every refusal is clean."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import shutil
import socket as sockets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from graphql import parse
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from invite_credits import auth
from invite_credits.api.limits import measure
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .conftest import settings_on, start_server
from .http import Api, codes

SECRET = "hostile-secret-that-is-long-enough-for-hs256"
PROTOCOL = "graphql-transport-ws"


def bomb(fragments: int, leaf: str = "name") -> str:
    """A document of `fragments` fragments, each spreading the next one twice: 2^fragments fields expanded."""
    parts = [f"fragment F{i} on Member {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments)]
    return "query { viewer { ...F0 } } " + " ".join(parts) + f" fragment F{fragments} on Member {{ {leaf} }}"


@pytest.fixture
def settings(database: str) -> Settings:
    return settings_on(database, jwt_secret=SECRET, synchronous="NORMAL", sweep_interval_seconds=3600)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client)


# -- 1. no document freezes a process -----------------------------------------------------------------------
def test_limits_are_measured_once_per_fragment() -> None:
    # 2^60 fields once expanded: expanding would never finish; measuring is linear in the document.
    shape = measure(parse(bomb(60, "a: name")))
    assert shape.fields > 10**15 - 1 and shape.aliases > 10**15 - 1 and shape.depth == 1
    chain = " ".join(f"fragment C{i} on Member {{ ...C{i + 1} }}" for i in range(600))
    assert measure(parse("{ viewer { ...C0 } } " + chain + " fragment C600 on Member { id }")).fields == 2


@pytest.mark.parametrize("leaf", ["name", "a: name", "connections(first: 5) { edges { node { id } } }"])
def test_a_fragment_bomb_is_too_complex(api: Api, leaf: str) -> None:
    for transport in ("post", "get"):
        query = bomb(20, leaf)
        if transport == "post":
            response = api.client.post("/graphql", json={"query": query})
        else:
            response = api.client.get("/graphql", params={"query": query})
        body = response.json()
        assert codes(body) == ["QUERY_TOO_COMPLEX"] and body.get("data") is None, body
        error = body["errors"][0]
        assert error["extensions"]["limit"] == "fields" and error["extensions"]["max"] == 2000
        assert "2000" in error["message"]


@pytest.mark.slow
def test_ten_bombs_at_once_leave_healthz_answering(database: str) -> None:
    server = start_server(database, INVITE_CREDITS_SYNCHRONOUS="NORMAL")
    try:
        answers: list[list[str]] = []

        def send() -> None:
            with httpx.Client(timeout=30) as client:
                answers.append(codes(client.post(server.url + "/graphql", json={"query": bomb(20)}).json()))

        senders = [threading.Thread(target=send) for _ in range(10)]
        latencies = []
        gc.disable()  # the server's latency, not a pause of this process's collector (tests/test_stall.py)
        try:
            with httpx.Client(timeout=30) as probe:
                probe.get(server.url + "/healthz")  # the connection is open before the burst
                for sender in senders:
                    sender.start()
                while any(s.is_alive() for s in senders):
                    started = time.perf_counter()
                    assert probe.get(server.url + "/healthz").status_code == 200
                    latencies.append(time.perf_counter() - started)
        finally:
            gc.enable()
        for sender in senders:
            sender.join()
        assert answers == [["QUERY_TOO_COMPLEX"]] * 10
        assert max(latencies, default=0) < 0.05, latencies
    finally:
        server.stop()


def test_thousands_of_repeated_fields_name_the_limit(api: Api) -> None:
    body = api.gql("{ " + " ".join(f'member(id: "{i}") {{ name }}' for i in range(300)) + " }")
    last = body["errors"][-1]
    assert last["extensions"]["limit"] == "validationErrors" and "100" in last["message"], last
    for document in ("{ viewer { " + "name " * 900 + "} }", "{ " + "policy { balanceCap } " * 900 + "}"):
        errors = api.gql(document).get("errors", [])
        assert all(e["message"] != "Validation aborted." for e in errors), errors
        assert all("limit" in e["extensions"] for e in errors if "abort" in e["message"].lower()), errors


@pytest.mark.parametrize(("document", "limit"), [
    ("{ viewer " + "{ connections(first: 1) { edges { node " * 8 + "{ id }" + " } } }" * 8 + " }", "depth"),
    ("{ " + " ".join(f"a{i}: policy {{ balanceCap }}" for i in range(40)) + " }", "aliases"),
    ("{ viewer { connections(first: 100) { edges { node { connections(first: 100) { edges { node { id } } } } } } } }",
     "cost"),
    ("{ policy { balanceCap } " + "x " * 6000 + "}", "tokens"),
    ("{" + "a{" * 300 + "b" + "}" * 301, "nesting"),
])
def test_every_limit_names_itself_and_its_value(api: Api, document: str, limit: str) -> None:
    error = api.gql(document)["errors"][0]
    assert error["extensions"]["limit"] == limit and str(error["extensions"]["max"]) in error["message"], error


# -- 3. cost is priced with the values that run ----------------------------------------------------------------
NESTED = ("query($n: Int{default}) {{ viewer {{ connections(first: $n) {{ edges {{ node {{ connections(first: $n) "
          "{{ edges {{ node {{ id }} }} }} }} }} }} }} }}")


@pytest.mark.parametrize(("default", "variables", "code"), [
    (" = 100", {}, "QUERY_TOO_COMPLEX"),        # the default runs, not the page size a missing variable would get
    ("", {"n": 100}, "QUERY_TOO_COMPLEX"),
    (" = 100", {"n": 10}, None),                # 10 + 10 x 10: the given value runs
    (" = 100", {"n": None}, None),              # null: the connection's default page size
    (" = 100", {"n": 101}, "BAD_USER_INPUT"),
    ("", {"n": "100"}, "BAD_USER_INPUT"),       # does not coerce: refused by execution, not priced as 20
])
def test_cost_follows_the_variables_that_run(api: Api, default: str, variables: dict[str, Any],
                                              code: str | None) -> None:
    body = api.gql(NESTED.format(default=default), variables)
    assert (codes(body)[0] if codes(body) else None) == code, body


# -- 2. and 9. one document policy for every transport ----------------------------------------------------------
POLICY = "query Cap { policy { balanceCap } }"
SIGN_UP = 'mutation Join { signUp(input: {email: "ws@example.com", name: "W"}) { userErrors { code } } }'


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _open(client: TestClient, token: str | None = None) -> tuple[Any, Any]:
    ws = client.websocket_connect("/graphql", subprotocols=[PROTOCOL])
    socket = ws.__enter__()
    socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"} if token else {}})
    assert socket.receive_json()["type"] == "connection_ack"
    return ws, socket


def test_trusted_documents_hold_over_websocket(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({_sha(POLICY): POLICY, "join": SIGN_UP}))
    settings = Settings(db_path=tmp_path / "t.db", jwt_secret=SECRET, synchronous="OFF", sweep_interval_seconds=3600,
                        trusted_documents=manifest)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        ws, socket = _open(client)
        try:
            unlisted = [
                {"query": 'mutation { signUp(input: {email: "x@example.com", name: "X"}) { token } }'},
                {"query": "{ viewer { email } }"},
                {"query": "{ policy { balanceCap } }", "extensions": {"persistedQuery": {
                    "version": 1, "sha256Hash": _sha("{ policy { balanceCap } }")}}},
                {"documentId": "nope"},
            ]
            for i, payload in enumerate(unlisted):
                socket.send_json({"id": str(i), "type": "subscribe", "payload": payload})
                message = socket.receive_json()
                assert message["type"] == "error" and message["id"] == str(i), message
                assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
            socket.send_json({"id": "ok", "type": "subscribe", "payload": {"documentId": _sha(POLICY)}})
            assert socket.receive_json()["payload"] == {"data": {"policy": {"balanceCap": 200}}}
        finally:
            ws.__exit__(None, None, None)
        # Nothing the unlisted mutation asked for happened.
        admin = auth.admin_token(SECRET, 60)
        assert client.post("/graphql", json={"documentId": "join"}).json() == {"data": {"signUp": {"userErrors": []}}}
        assert api.post("{ viewer { id } }", token=admin).status_code == 403  # not in the list, even for an admin


# -- 8. malformed WebSocket frames -----------------------------------------------------------------------------
@pytest.mark.parametrize("frame", [[1, 2, 3], None, "text", 5, {"type": 7},
                                   {"id": "1", "type": "subscribe", "payload": "{ viewer { id } }"},
                                   {"id": 1, "type": "subscribe", "payload": {"query": "{ policy { balanceCap } }"}},
                                   {"id": "1", "type": "subscribe", "payload": {"query": 5}},
                                   {"id": "1", "type": "subscribe", "payload": {"variables": [1]}}])
def test_a_malformed_frame_closes_with_4400_and_a_reason(api: Api, frame: Any,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    bystander, other = _open(api.client)
    try:
        ws, socket = _open(api.client)
        socket.send_json(frame)
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4400 and closed.value.reason, closed.value
        ws.__exit__(None, None, None)
        other.send_json({"id": "still", "type": "subscribe", "payload": {"query": "{ policy { balanceCap } }"}})
        assert other.receive_json()["payload"] == {"data": {"policy": {"balanceCap": 200}}}
    finally:
        bystander.__exit__(None, None, None)
    assert not [r for r in caplog.records if r.exc_info], "a malformed frame logged a traceback"


# -- 4. a token stays its member's ------------------------------------------------------------------------------
def test_a_token_never_names_the_member_who_got_its_number(tmp_path: Path) -> None:
    """Back up, sign up A, restore the backup, sign up B: B gets A's number, and A's token stays A's (refused)."""
    settings = Settings(db_path=tmp_path / "live.db", jwt_secret=SECRET, synchronous="FULL", sweep_interval_seconds=3600)
    with TestClient(create_app(settings)) as client:
        Api(client).sign_up("first@example.com", "First")
    shutil.copy(settings.db_path, tmp_path / "backup.db")
    with TestClient(create_app(settings)) as client:
        a_id, a_token = Api(client).sign_up("a@example.com", "A")
    shutil.copy(tmp_path / "backup.db", settings.db_path)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        b_id, b_token = api.sign_up("b@example.com", "B")
        assert b_id == a_id  # the number was given again
        stolen = api.post("{ viewer { email } }", token=a_token)
        assert stolen.status_code == 401 and codes(stolen.json()) == ["UNAUTHENTICATED"]
        assert api.data("{ viewer { email } }", token=b_token) == {"viewer": {"email": "b@example.com"}}


def test_tokens_without_a_session_are_refused(api: Api) -> None:
    member_id, _ = api.sign_up("old@example.com", "Old")
    now = int(time.time())
    legacy = jwt.encode({"sub": member_id, "role": "member", "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    assert api.post("{ viewer { id } }", token=legacy).status_code == 401


SIGN_OUT = "mutation($i: SignOutEverywhereInput!) { signOutEverywhere(input: $i) { revokedAt userErrors { code field } } }"


def test_sign_out_everywhere_refuses_every_earlier_token(api: Api) -> None:
    ann_id, ann = api.sign_up("ann@example.com", "Ann")
    bob_id, bob = api.sign_up("bob@example.com", "Bob")
    admin = auth.admin_token(SECRET, 600)
    # A member may not sign another out, and a member that does not exist is not revealed to them.
    for target in (bob_id, "TWVtYmVyOjk5OTk"):
        refused = api.gql(SIGN_OUT, {"i": {"memberId": target}}, token=ann)
        assert codes(refused) == ["FORBIDDEN"] and refused["data"] is None
    assert api.data(SIGN_OUT, {"i": {"memberId": "nope"}}, token=admin)["signOutEverywhere"] == {
        "revokedAt": None, "userErrors": [{"code": "NOT_FOUND", "field": ["input", "memberId"]}]}
    assert codes(api.gql(SIGN_OUT, {"i": {}})) == ["UNAUTHENTICATED"]
    out = api.data(SIGN_OUT, {"i": {}}, token=ann)["signOutEverywhere"]
    assert out["userErrors"] == [] and out["revokedAt"].endswith("Z")
    response = api.post("{ viewer { id } }", token=ann)
    assert response.status_code == 401 and codes(response.json()) == ["UNAUTHENTICATED"]
    assert api.data("{ viewer { id } }", token=bob) == {"viewer": {"id": bob_id}}
    assert api.data(SIGN_OUT, {"i": {"memberId": bob_id}}, token=admin)["signOutEverywhere"]["userErrors"] == []
    assert api.post("{ viewer { id } }", token=bob).status_code == 401
    assert api.data("query($m: ID!) { member(id: $m) { name } }", {"m": ann_id}, token=admin) == {
        "member": {"name": "Ann"}}


# -- 5. and 6. one rule for the text the API takes ---------------------------------------------------------------
@pytest.mark.parametrize(("mutation", "variables", "field"), [
    ("signUp", {"email": "a\u0000@example.com", "name": "A"}, ["input", "email"]),
    ("signUp", {"email": "n@example.com", "name": "A", "referralCode": "AB\u0000"}, ["input", "referralCode"]),
    ("signUp", {"email": "k@example.com", "name": "A", "idempotencyKey": "k\u0000"}, ["input", "idempotencyKey"]),
    ("signUp", {"email": "t@example.com", "name": "A\tB"}, ["input", "name"]),
    ("importContacts", {"contacts": [{"email": "ok@example.com"}, {"email": "c\u0000@example.com"}]},
     ["input", "contacts", "1", "email"]),
    ("postDiscussion", {"kind": "POST", "body": "line\u0007"}, ["input", "body"]),
])
def test_control_characters_are_invalid_input(api: Api, mutation: str, variables: dict[str, Any],
                                              field: list[str]) -> None:
    _, token = api.sign_up("member@example.com", "Member")
    kind = mutation[0].upper() + mutation[1:] + "Input"
    body = api.gql(f"mutation($i: {kind}!) {{ {mutation}(input: $i) {{ userErrors {{ code field }} }} }}",
                   {"i": variables}, token=token)
    assert body["data"][mutation]["userErrors"] == [{"code": "INVALID_INPUT", "field": field}], body
    assert api.data("{ viewer { ledger { edges { node { reason } } } } }", token=token)["viewer"]["ledger"][
        "edges"] == [{"node": {"reason": "SIGNUP"}}]  # nothing happened


def test_multiline_text_keeps_its_line_breaks(api: Api) -> None:
    _, token = api.sign_up("member@example.com", "Member")
    posted = api.data('mutation { postDiscussion(input: {kind: POST, body: "one\\n\\ttwo\\r\\n"}) '
                      "{ userErrors { code } } }", token=token)
    assert posted == {"postDiscussion": {"userErrors": []}}


def test_control_characters_in_an_argument_are_bad_user_input(api: Api) -> None:
    body = api.gql("query($s: String) { companies(search: $s) { edges { node { id } } } }", {"s": "a\u0000"})
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("email", ["<script>alert(1)</script>@example.com", "a@example.com>", "<a@example.com>",
                                   "a(b)@example.com", "x@y.!", "a@b", "a b@example.com", "ü@example.com",
                                   "\u212aevin@example.com", "a@-example.com", "a@exa_mple.com"])
def test_malformed_emails_are_refused(api: Api, email: str) -> None:
    body = api.gql("mutation($i: SignUpInput!) { signUp(input: $i) { userErrors { code field } } }",
                   {"i": {"email": email, "name": "X"}})
    assert body["data"]["signUp"]["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "email"]}]


@pytest.mark.parametrize("email", ["o'brien+tag@mail.example.co.uk", "first.last@example.com", "A@EXAMPLE.COM",
                                   "x_y-z@sub-domain.example.org"])
def test_valid_emails_are_accepted(api: Api, email: str) -> None:
    api.sign_up(email, "Y")


# -- 7. bodies -------------------------------------------------------------------------------------------------
def _raw_post(url: str, headers: list[str], chunks: list[bytes]) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with sockets.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + "".join(h + "\r\n" for h in headers) + "\r\n").encode())
        for chunk in chunks:
            conn.sendall(chunk)
        answer = b""
        while True:
            head, _, body = answer.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                           if line.startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                return answer
            data = conn.recv(65536)
            if not data:
                return answer
            answer += data


def test_bodies_over_the_limit_in_chunks_and_encodings_not_decoded(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(2000):
            yield b" " * 1000
        yield b'{ policy { balanceCap } }"}'

    big = api.client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert big.status_code == 413 and codes(big.json()) == ["PAYLOAD_TOO_LARGE"]
    small = api.client.post("/graphql", content=iter([b'{"query": "{ policy ', b'{ balanceCap } }"}']),
                            headers={"content-type": "application/json"})
    assert small.json() == {"data": {"policy": {"balanceCap": 200}}}
    gzipped = api.client.post("/graphql", content=b"\x1f\x8b", headers={"content-type": "application/json",
                                                                        "content-encoding": "gzip"})
    assert gzipped.status_code == 415 and codes(gzipped.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


def _asgi_post(api: Api, headers: list[tuple[bytes, bytes]], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the app sends for a POST to /graphql whose client sends `messages`, called as an ASGI app (no HTTP
    server in between to refuse the request first)."""
    incoming = iter(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), *headers],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    portal = api.client.portal
    assert portal is not None  # the fixture's client is started (its lifespan ran)
    portal.call(api.client.app, scope, receive, send)  # type: ignore[call-arg, arg-type]
    return sent


def test_a_client_that_leaves_before_its_body_is_in_gets_no_answer_and_no_error_logged(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Half a body, then the client is gone: nothing is sent, and nothing is logged as a failure."""
    with caplog.at_level(logging.WARNING):
        sent = _asgi_post(api, [(b"content-length", b"100")],
                          [{"type": "http.request", "body": b'{"query": ', "more_body": True},
                           {"type": "http.disconnect"}])
    assert sent == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("length", [b"\xb2", b"1e3", b"-1", b" 12", b""])
def test_a_content_length_that_is_not_ascii_digits_is_413(api: Api, length: bytes) -> None:
    """A length in other digits (a superscript two is a digit to Python) or not a number: refused, never a 500."""
    sent = _asgi_post(api, [(b"content-length", length)], [{"type": "http.request", "body": b"{}"}])
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_is_413_on_a_real_server(tmp_path: Path) -> None:
    server = start_server(tmp_path / "c.db", INVITE_CREDITS_MAX_BODY_BYTES="1000")
    try:
        chunk = b" " * 600
        body = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
        answer = _raw_post(server.url, ["Transfer-Encoding: chunked"], [body])
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"PAYLOAD_TOO_LARGE" in answer
    finally:
        server.stop()


# -- 10. HTTP semantics ------------------------------------------------------------------------------------------
def test_every_405_says_what_is_allowed(api: Api) -> None:
    get = api.client.get("/graphql", params={"query": 'mutation { signUp(input: {email: "g@example.com", name: "G"}) '
                                                      "{ token } }"})
    assert get.status_code == 405 and get.headers["allow"] == "POST" and codes(get.json()) == ["METHOD_NOT_ALLOWED"]
    put = api.client.put("/graphql", json={"query": "{ policy { balanceCap } }"})
    assert put.status_code == 405 and put.headers["allow"] == "GET, POST"
    assert api.data('{ member(id: "x") { id } }') == {"member": None}  # nothing was signed up by GET


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/json;q=0.5, application/graphql-response+json", "application/graphql-response+json"),
    ("application/graphql-response+json;q=0.4, application/json", "application/json"),
    ("application/json, application/graphql-response+json", "application/json"),
    ("application/graphql-response+json;q=0, */*", "application/json"),
    ("*/*", "application/json"),
    ("application/*;q=0.2, application/graphql-response+json;q=0.9", "application/graphql-response+json"),
])
def test_accept_q_values_are_honoured(api: Api, accept: str, media_type: str) -> None:
    response = api.client.post("/graphql", json={"query": "{ policy { balanceCap } }"}, headers={"accept": accept})
    assert response.headers["content-type"].startswith(media_type)


def test_several_operations_without_a_name_run_nothing(api: Api) -> None:
    document = ('query A { policy { balanceCap } } '
                'mutation B { signUp(input: {email: "two@example.com", name: "Two"}) { token } }')
    for accept in ("application/json", "application/graphql-response+json"):
        response = api.client.post("/graphql", json={"query": document}, headers={"accept": accept})
        assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]
        assert "operationName" in response.json()["errors"][0]["message"]
    named = api.client.post("/graphql", json={"query": document, "operationName": "A"})
    assert named.json() == {"data": {"policy": {"balanceCap": 200}}}
    assert api.gql('mutation { signUp(input: {email: "two@example.com", name: "Two"}) { userErrors { code } } }')[
        "data"]["signUp"]["userErrors"] == []  # B never ran: the email is free


# -- 11. token claims --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_token_times_must_be_numbers(api: Api, claim: str) -> None:
    member_id, token = api.sign_up("clock@example.com", "Clock")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    claims[claim] = str(int(time.time()) + (3600 if claim == "exp" else -10))
    forged = jwt.encode(claims, SECRET, algorithm="HS256")
    response = api.post("{ viewer { id } }", token=forged)
    assert response.status_code == 401 and codes(response.json()) == ["UNAUTHENTICATED"]
    assert api.data("{ viewer { id } }", token=token) == {"viewer": {"id": member_id}}


def test_a_live_subscription_sends_nothing_after_its_token_is_signed_out(api: Api) -> None:
    member_id, token = api.sign_up("live@example.com", "Live")
    admin = auth.admin_token(SECRET, 600)
    ws, socket = _open(api.client, token)
    try:
        socket.send_json({"id": "b", "type": "subscribe", "payload": {"query": "subscription { balanceChanged { available } }"}})
        assert socket.receive_json()["payload"]["data"] == {"balanceChanged": {"available": 15}}
        assert api.data("mutation { signOutEverywhere(input: {}) { userErrors { code } } }", token=token) == {
            "signOutEverywhere": {"userErrors": []}}
        adjust = 'mutation($m: ID!) { adjustCredits(input: {memberId: $m, amount: 5, note: "n"}) { userErrors { code } } }'
        api.data(adjust, {"m": member_id}, token=admin)
        message = socket.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors", [])
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], message
    finally:
        ws.__exit__(None, None, None)
