"""A replay is the first answer exactly: every object of the payload as it was, whatever changed since."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.http.app import create_app

from .conftest import settings_on
from .http import Api

SECRET = "replay-secret-that-is-long-enough-for-hs256-tokens"

SEND = """
mutation($input: SendInvitationInput!) {
  sendInvitation(input: $input) {
    invitation { id status message followUpMessage respondedAt
                 inviter { name headline balance { available expiringSoon nextExpiryAt asOf } }
                 invitee { name headline tier } }
    ledgerEntry { id amount balanceAfter occurredAt
                  creditLot { id remaining expired } invitation { status } }
    balance { available unlimited cap expiringSoon nextExpiryAt asOf }
    userErrors { code field }
  }
}"""
ACCEPT = """
mutation($input: InvitationActionInput!) {
  acceptInvitation(input: $input) {
    invitation { status respondedAt invitee { name balance { available asOf } } }
    ledgerEntry { amount balanceAfter creditLot { remaining expired } }
    balance { available asOf }
    userErrors { code }
  }
}"""
PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    profile { headline about completion }
    ledgerEntry { amount reason }
    balance { available asOf }
    userErrors { code }
  }
}"""
FOLLOW = """
mutation($input: FollowCompanyInput!) {
  followCompany(input: $input) {
    company { name slug viewerFollows }
    ledgerEntry { amount company { name viewerFollows } creditLot { remaining } }
    balance { available }
    userErrors { code }
  }
}"""


@pytest.fixture
def api(database: str) -> Iterator[Api]:
    """On each store: a replay must not depend on which database keeps the first answer."""
    settings = settings_on(database, jwt_secret=SECRET, test_clock=True, synchronous="OFF", sweep_interval_seconds=3600)
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def _raw(api: Api, query: str, variables: Mapping[str, object], token: str) -> bytes:
    response = api.post(query, dict(variables), token)
    assert response.status_code == 200 and b'"userErrors":[]' in response.content, response.text
    content: bytes = response.content
    return content


def test_a_replay_is_byte_identical_after_every_object_changed(api: Api) -> None:
    admin = auth.admin_token(SECRET, 3600)
    ann_id, ann = api.sign_up("ann@example.com", "Ann")
    bob_id, bob = api.sign_up("bob@example.com", "Bob")
    company = api.data('mutation { createCompany(input: {name: "Acme", slug: "acme"}) { company { id } } }',
                       token=admin)["createCompany"]["company"]["id"]
    # Keys are kept 24 hours: the keyed calls happen two hours before the sign-up credits expire, so the
    # changes made afterwards can include that expiry.
    expiry = datetime.fromisoformat(api.data("{ viewer { balance { nextExpiryAt } } }", token=ann)
                                    ["viewer"]["balance"]["nextExpiryAt"])
    _advance(api, admin, expiry - timedelta(hours=2))

    send = {"input": {"inviteeId": bob_id, "message": "hi", "idempotencyKey": "send-1"}}
    sent = _raw(api, SEND, send, ann)
    invitation = api.post(SEND, send, ann).json()["data"]["sendInvitation"]["invitation"]["id"]
    accept = {"input": {"invitationId": invitation, "idempotencyKey": "accept-1"}}
    accepted = _raw(api, ACCEPT, accept, bob)
    profile = {"input": {"headline": "Builder", "idempotencyKey": "profile-1"}}
    edited = _raw(api, PROFILE, profile, bob)
    follow = {"input": {"companyId": company, "idempotencyKey": "follow-1"}}
    followed = _raw(api, FOLLOW, follow, ann)

    # Change every object those payloads show: accept (status), spend (balance, lots), edit (name, headline),
    # unfollow (viewerFollows), and a year later every lot expired.
    api.data('mutation { updateProfile(input: {name: "Ann Renamed", headline: "Changed"}) { userErrors { code } } }',
             token=ann)
    api.data('mutation { updateProfile(input: {name: "Bob Renamed", headline: "Other"}) { userErrors { code } } }',
             token=bob)
    carol_id, _ = api.sign_up("carol@example.com", "Carol")
    api.data(f'mutation {{ sendInvitation(input: {{inviteeId: "{carol_id}"}}) {{ userErrors {{ code }} }} }}', token=ann)
    api.data(f'mutation {{ unfollowCompany(input: {{companyId: "{company}"}}) {{ userErrors {{ code }} }} }}', token=ann)
    _advance(api, admin, expiry + timedelta(hours=1))

    assert _raw(api, SEND, send, ann) == sent
    assert _raw(api, ACCEPT, accept, bob) == accepted
    assert _raw(api, PROFILE, profile, bob) == edited
    assert _raw(api, FOLLOW, follow, ann) == followed
    # ... while a fresh read shows the world as it is now.
    now = api.data("{ viewer { name balance { available } } }", token=ann)["viewer"]
    assert now == {"name": "Ann Renamed", "balance": {"available": 1}}  # the sign-up lot expired


def _advance(api: Api, admin: str, to: datetime) -> None:
    moved = api.data("mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { userErrors { code } } }",
                     {"to": to.strftime("%Y-%m-%dT%H:%M:%SZ")}, token=admin)
    assert moved["advanceTestClock"]["userErrors"] == []
