"""Tokens signed by an identity provider: a JWKS served by the test, keys made by the test, every bad token refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from invite_credits.http.app import create_app
from invite_credits.settings import Settings, SettingsError

from .http import Api, codes

SECRET = "identity-secret-that-is-long-enough-for-hs256"
ISSUER = "https://sso.test/realms/acme"
AUDIENCE = "invite-credits"


@dataclass
class Key:
    kid: str
    private: Any
    algorithm: str

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.algorithms.RSAAlgorithm if self.algorithm.startswith("RS") else jwt.algorithms.ECAlgorithm
        data: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def public_pem(self) -> bytes:
        return bytes(self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))


def rsa_key(kid: str) -> Key:
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


def ec_key(kid: str) -> Key:
    return Key(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


@dataclass
class Jwks:
    """A provider's JWKS endpoint, served by the test: keys can rotate and the endpoint can go down."""

    keys: list[Key] = field(default_factory=list)
    down: bool = False
    fetches: int = 0
    url: str = ""


@pytest.fixture
def provider() -> Iterator[Jwks]:
    state = Jwks(keys=[rsa_key("rsa-1"), ec_key("ec-1")])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            state.fetches += 1
            if state.down:
                self.send_response(503)
                self.end_headers()
                return
            body = json.dumps({"keys": [k.jwk() for k in state.keys]}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/certs"
    yield state
    server.shutdown()
    server.server_close()


def make_settings(tmp_path: Path, provider: Jwks, **changes: Any) -> Settings:
    values: dict[str, Any] = dict(db_path=tmp_path / "idp.db", jwt_secret=SECRET, synchronous="OFF",
                                  sweep_interval_seconds=3600, jwks_url=provider.url, jwt_issuer=ISSUER,
                                  jwt_audience=AUDIENCE, jwks_refresh_floor_seconds=0)
    values.update(changes)
    return Settings(**values)


@pytest.fixture
def api(tmp_path: Path, provider: Jwks) -> Iterator[Api]:
    with TestClient(create_app(make_settings(tmp_path, provider))) as client:
        yield Api(client)


def token(key: Key, subject: str, *, algorithm: str | None = None, kid: str | None = "same", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 600, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"kid": key.kid if kid == "same" else kid} if kid is not None else {}
    return jwt.encode(payload, key.private, algorithm=algorithm or key.algorithm, headers=headers)


def viewer(api: Api, bearer: str) -> Any:
    response = api.client.post("/graphql", json={"query": "{ viewer { id name } }"},
                               headers={"authorization": f"Bearer {bearer}"})
    return response.status_code, response.json()


def test_provider_tokens_act_as_the_member_they_name(api: Api, provider: Jwks) -> None:
    member_id, _ = api.sign_up("ann@example.com", "Ann")
    for key in provider.keys:  # RS256 and ES256
        status, body = viewer(api, token(key, member_id))
        assert status == 200 and body["data"]["viewer"] == {"id": member_id, "name": "Ann"}


def test_roles_from_a_claim_or_a_scope(tmp_path: Path, provider: Jwks) -> None:
    settings = make_settings(tmp_path, provider, jwt_admin_scope="credits:admin")
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com")
        adjust = (f'mutation {{ adjustCredits(input: {{memberId: "{member_id}", amount: 1, note: "n"}}) '
                  '{ userErrors { code } } }')
        key = provider.keys[0]
        for admin in (token(key, "ops-1", role="admin"), token(key, "ops-2", scope="openid credits:admin"),
                      token(key, "ops-3", scp=["credits:admin"]), token(key, "ops-4", role=["user", "admin"])):
            assert api.data(adjust, token=admin)["adjustCredits"]["userErrors"] == []
        for member in (token(key, member_id), token(key, member_id, role=["member"]), token(key, member_id, role=[])):
            assert codes(api.gql(adjust, token=member)) == ["FORBIDDEN"]  # a multivalued role without admin: member


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_provider_token_times_must_be_numbers(api: Api, provider: Jwks, claim: str) -> None:
    member_id, _ = api.sign_up("ann@example.com")
    value = str(int(time.time()) + (600 if claim == "exp" else -10))
    status, body = viewer(api, token(provider.keys[0], member_id, **{claim: value}))
    assert status == 401 and codes(body) == ["UNAUTHENTICATED"], body


def test_provider_tokens_issued_before_a_sign_out_are_refused(api: Api, provider: Jwks) -> None:
    member_id, own = api.sign_up("ann@example.com")
    key = provider.keys[0]
    before, no_iat = token(key, member_id, iat=int(time.time()) - 60), token(key, member_id, iat=None)
    assert viewer(api, before)[0] == viewer(api, no_iat)[0] == 200
    out = api.data("mutation { signOutEverywhere(input: {}) { userErrors { code } } }", token=own)
    assert out == {"signOutEverywhere": {"userErrors": []}}
    for refused in (before, no_iat, own):
        status, body = viewer(api, refused)
        assert status == 401 and codes(body) == ["UNAUTHENTICATED"], body
    after = token(key, member_id, iat=int(time.time()) + 2)
    assert viewer(api, after)[0] == 200


@pytest.mark.parametrize(("make", "reason"), [
    (lambda k, m: token(k, m, iss="https://evil.test"), "issuer"),
    (lambda k, m: token(k, m, aud="another-app"), "audience"),
    (lambda k, m: token(k, m, exp=int(time.time()) - 120), "expired"),
    (lambda k, m: token(k, m, nbf=int(time.time()) + 600), "not_yet_valid"),
    (lambda k, m: token(k, m, algorithm="RS384"), "algorithm"),
    (lambda k, m: token(k, m, kid="nobody-has-this-key"), "unknown_key"),
    (lambda k, m: token(k, m, exp=None), "invalid"),
    (lambda k, m: jwt.encode({"sub": m, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600}, "",
                             algorithm="none"), "algorithm"),
    (lambda k, m: token(rsa_key(k.kid), m), "invalid"),  # the right kid, another key's signature
])
def test_every_bad_provider_token_is_unauthenticated(api: Api, provider: Jwks, make: Any, reason: str) -> None:
    member_id, _ = api.sign_up("ann@example.com")
    status, body = viewer(api, make(provider.keys[0], member_id))
    assert status == 401 and codes(body) == ["UNAUTHENTICATED"], body
    metrics = api.client.get("/metrics").text
    assert f'invite_credits_tokens_refused_total{{reason="{reason}"}} 1.0' in metrics


def test_hs256_signed_with_the_public_key_is_refused(api: Api, provider: Jwks) -> None:
    """Algorithm confusion: the provider's public key used as an HMAC secret."""
    member_id, _ = api.sign_up("ann@example.com")
    pem = provider.keys[0].public_pem()
    claims = {"sub": member_id, "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600}
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa-1"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(pem, head + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    status, answer = viewer(api, (head + b"." + body + b"." + signature).decode())
    assert status == 401 and codes(answer) == ["UNAUTHENTICATED"]


def test_settings_refuse_none_and_hmac_algorithms(tmp_path: Path, provider: Jwks) -> None:
    for algorithms in (("none",), ("HS256",), ("RS256", "HS512"), ()):
        with pytest.raises(SettingsError, match="INVITE_CREDITS_JWT_ALGORITHMS"):
            make_settings(tmp_path, provider, jwt_algorithms=algorithms)
    with pytest.raises(SettingsError, match="INVITE_CREDITS_JWKS_URL"):
        make_settings(tmp_path, provider, jwks_url="file:///etc/keys.json")


def test_an_unknown_subject_is_refused_unless_linked_by_verified_email(tmp_path: Path, provider: Jwks) -> None:
    key = provider.keys[0]
    with TestClient(create_app(make_settings(tmp_path, provider))) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com", "Ann")
        status, body = viewer(api, token(key, "f1d2-uuid", email="ann@example.com", email_verified=True))
        assert status == 401 and codes(body) == ["UNAUTHENTICATED"]  # linking is off by default
    with TestClient(create_app(make_settings(tmp_path, provider, link_by_email=True))) as client:
        api = Api(client)
        for refused in (token(key, "f1d2-uuid", email="ann@example.com", email_verified=False),
                        token(key, "f1d2-uuid", email="ann@example.com"),
                        token(key, "f1d2-uuid", email="nobody@example.com", email_verified=True)):
            assert viewer(api, refused)[0] == 401
        status, body = viewer(api, token(key, "f1d2-uuid", email=" ANN@example.com ", email_verified=True))
        assert status == 200 and body["data"]["viewer"]["id"] == member_id
        # Linked for good: the same subject needs no email any more.
        assert viewer(api, token(key, "f1d2-uuid"))[1]["data"]["viewer"]["id"] == member_id
        # The link is per issuer.
        assert viewer(api, token(key, "f1d2-uuid", iss=None))[0] == 401


class Clock:
    """The monotonic clock the key cache reads, moved by the test instead of slept through."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from invite_credits.auth import identity

    fake = Clock()
    monkeypatch.setattr(identity, "time", fake)
    return fake


def test_rotation_picks_up_a_new_key_and_drops_the_old_after_its_lifetime(tmp_path: Path, provider: Jwks,
                                                                          clock: Clock) -> None:
    settings = make_settings(tmp_path, provider, jwks_lifetime_seconds=300)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com")
        old = provider.keys[0]
        assert viewer(api, token(old, member_id))[0] == 200
        new = rsa_key("rsa-2")
        provider.keys = [new]
        assert viewer(api, token(new, member_id))[0] == 200  # an unknown kid fetches the set again
        clock.now += 301
        assert viewer(api, token(old, member_id))[0] == 401  # the old key is gone once the set is refreshed


def test_unknown_key_ids_fetch_the_set_at_most_once_per_floor(tmp_path: Path, provider: Jwks) -> None:
    with TestClient(create_app(make_settings(tmp_path, provider, jwks_refresh_floor_seconds=60))) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com")
        assert viewer(api, token(provider.keys[0], member_id))[0] == 200
        fetched = provider.fetches
        for i in range(30):
            assert viewer(api, token(provider.keys[0], member_id, kid=f"made-up-{i}"))[0] == 401
        assert provider.fetches == fetched


def test_provider_down_cached_keys_keep_working_and_none_cached_is_503(tmp_path: Path, provider: Jwks,
                                                                       clock: Clock) -> None:
    settings = make_settings(tmp_path, provider, jwks_lifetime_seconds=300)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com")
        assert viewer(api, token(provider.keys[0], member_id))[0] == 200
        provider.down = True
        fetches = provider.fetches
        clock.now += 301  # the set is stale: a refresh fails, the cached keys stay
        assert viewer(api, token(provider.keys[0], member_id))[0] == 200
        assert provider.fetches == fetches + 1  # it did try
    with TestClient(create_app(make_settings(tmp_path / "..", provider, db_path=tmp_path / "other.db"))) as client:
        response = client.post("/graphql", json={"query": "{ viewer { id } }"},
                               headers={"authorization": f"Bearer {token(provider.keys[0], 'x')}"})
        assert response.status_code == 503 and codes(response.json()) == ["SERVICE_UNAVAILABLE"]
        assert response.headers["retry-after"] and response.headers["x-request-id"]


def test_a_pem_public_key_file_works_without_a_jwks(tmp_path: Path, provider: Jwks) -> None:
    key = provider.keys[1]
    pem = tmp_path / "idp.pem"
    pem.write_bytes(key.public_pem())
    with TestClient(create_app(make_settings(tmp_path, provider, jwks_url=None, jwt_public_key_file=pem))) as client:
        api = Api(client)
        member_id, _ = api.sign_up("ann@example.com")
        assert viewer(api, token(key, member_id, kid=None))[0] == 200
        assert viewer(api, token(provider.keys[0], member_id, kid=None))[0] == 401


def test_service_tokens_keep_working_and_signup_can_be_switched_off(tmp_path: Path, provider: Jwks) -> None:
    with TestClient(create_app(make_settings(tmp_path, provider))) as client:
        api = Api(client)
        member_id, member_token = api.sign_up("ann@example.com", "Ann")
        assert viewer(api, member_token)[1]["data"]["viewer"]["id"] == member_id
    with TestClient(create_app(make_settings(tmp_path, provider, signup_enabled=False))) as client:
        body = Api(client).gql('mutation { signUp(input: {email: "b@example.com", name: "B"}) { token } }')
        assert codes(body) == ["FORBIDDEN"]


def test_a_service_token_for_a_member_that_does_not_exist_is_refused(api: Api) -> None:
    from invite_credits import auth

    status, body = viewer(api, auth.member_token(SECRET, 4242, "0" * 32, 600))
    assert status == 401 and codes(body) == ["UNAUTHENTICATED"]
