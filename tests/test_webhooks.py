"""Webhooks end to end, on both stores, with a real receiver on 127.0.0.1: endpoints managed (and audited) by
admins, deliveries signed per the Standard Webhooks specification and verified with its package, retried with
the same webhook-id, both secrets signing after a rotation, a slow receiver delaying nothing else, and the
SSRF guard."""

from __future__ import annotations

import json
import time
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .conftest import APP_SECRET as SECRET
from .http import Api, codes
from .receiver import Received, receiver

CREATE = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  endpoint { id url eventTypes enabled description createdAt } secret userErrors { code field } } }"""
UPDATE = """mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) {
  endpoint { id enabled eventTypes } userErrors { code field } } }"""
DELIVERIES = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 50) { edges { node {
  id status attempts lastStatusCode lastError nextAttemptAt lastAttemptAt event { id type } } } } } } }"""


def create(api: Api, admin: str, url: str, types: list[str], **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(CREATE, {"i": {"url": url, "eventTypes": types, **extra}},
                                       token=admin)["createWebhookEndpoint"]
    return payload


def verified(got: Received, secret: str) -> dict[str, Any]:
    """The delivery's body, verified with the Standard Webhooks package (it raises on a bad signature)."""
    body: dict[str, Any] = Webhook(secret).verify(got.body, got.headers)
    return body


def deliveries(api: Api, admin: str, endpoint: str) -> list[dict[str, Any]]:
    node = api.data(DELIVERIES, {"id": endpoint}, token=admin)["node"]
    return [e["node"] for e in node["deliveries"]["edges"]]


def test_an_endpoint_receives_its_event_types_signed(api: Api, admin: str) -> None:
    with receiver() as hook:
        made = create(api, admin, hook.url, ["MEMBER_SIGNED_UP", "INVITATION_SENT"], description="CRM sync")
        assert made["userErrors"] == [] and made["secret"].startswith("whsec_")
        endpoint = made["endpoint"]
        assert endpoint["eventTypes"] == ["INVITATION_SENT", "MEMBER_SIGNED_UP"] and endpoint["enabled"]
        ann, _ = api.sign_up("ann@example.com", "Ann")
        [got] = hook.wait_for(1)
        body = verified(got, made["secret"])
        assert body["type"] == "MEMBER_SIGNED_UP" and body["data"]["member"] == ann
        events = api.data("{ events(types: [MEMBER_SIGNED_UP]) { edges { node { id } } } }", token=admin)["events"]
        assert got.headers["webhook-id"] == events["edges"][0]["node"]["id"]
        time.sleep(0.5)
        assert len(hook.got) == 1  # the LEDGER_ENTRY_ADDED of the sign-up is not its type
        [delivery] = deliveries(api, admin, endpoint["id"])
        assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == ("SUCCEEDED", 1, 200)
        assert delivery["event"]["type"] == "MEMBER_SIGNED_UP" and delivery["nextAttemptAt"] is None
        listed = api.data("{ webhookEndpoints { edges { node { id url description } } } }", token=admin)
        assert listed["webhookEndpoints"]["edges"] == [{"node": {"id": endpoint["id"], "url": hook.url,
                                                                  "description": "CRM sync"}}]
        audit = api.data("{ auditLog(first: 1) { edges { node { action details } } } }", token=admin)
        record = audit["auditLog"]["edges"][0]["node"]
        assert record["action"] == "WEBHOOK_ENDPOINT_CREATED" and "secret" not in json.dumps(record["details"])


def test_a_failing_receiver_is_retried_with_the_same_webhook_id(api: Api, admin: str) -> None:
    with receiver() as hook:
        hook.status = 500
        made = create(api, admin, hook.url, ["MEMBER_SIGNED_UP"])
        api.sign_up("ann@example.com", "Ann")
        hook.wait_for(1)
        time.sleep(0.3)
        [pending] = deliveries(api, admin, made["endpoint"]["id"])
        assert (pending["status"], pending["attempts"], pending["lastStatusCode"]) == ("PENDING", 1, 500)
        assert pending["lastError"] == "HTTP 500" and pending["nextAttemptAt"] is not None
        hook.status = 204
        first, second = hook.wait_for(2, seconds=15)  # the schedule's first retry: 5 s, +-10%
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        verified(second, made["secret"])
        time.sleep(0.3)
        [done] = deliveries(api, admin, made["endpoint"]["id"])
        assert (done["status"], done["attempts"], done["lastStatusCode"]) == ("SUCCEEDED", 2, 204)


def test_after_a_rotation_both_secrets_sign(api: Api, admin: str) -> None:
    with receiver() as hook:
        made = create(api, admin, hook.url, ["MEMBER_SIGNED_UP"])
        rotated = api.data("mutation($i: WebhookEndpointActionInput!) { rotateWebhookSecret(input: $i) { "
                           "endpoint { id } secret userErrors { code } } }",
                           {"i": {"endpointId": made["endpoint"]["id"]}}, token=admin)["rotateWebhookSecret"]
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
        api.sign_up("ann@example.com", "Ann")
        [got] = hook.wait_for(1)
        assert len(got.headers["webhook-signature"].split()) == 2
        assert verified(got, made["secret"]) == verified(got, rotated["secret"])


def test_disabled_deleted_and_redelivered(api: Api, admin: str) -> None:
    with receiver() as hook:
        made = create(api, admin, hook.url, ["MEMBER_SIGNED_UP"], idempotencyKey="hook-1")
        again = create(api, admin, hook.url, ["MEMBER_SIGNED_UP"], idempotencyKey="hook-1")
        assert again == made  # the first answer, its secret included
        other = create(api, admin, hook.url + "2", ["MEMBER_SIGNED_UP"], idempotencyKey="hook-1")
        assert other["userErrors"] == [{"code": "IDEMPOTENCY_KEY_REUSED", "field": ["input", "idempotencyKey"]}]
        endpoint = made["endpoint"]["id"]
        off = api.data(UPDATE, {"i": {"endpointId": endpoint, "enabled": False}}, token=admin)["updateWebhookEndpoint"]
        assert off["endpoint"]["enabled"] is False
        api.sign_up("ann@example.com", "Ann")
        time.sleep(0.8)
        assert hook.got == [] and deliveries(api, admin, endpoint) == []  # nothing while disabled
        event = api.data("{ events(types: [MEMBER_SIGNED_UP]) { edges { node { id } } } }",
                         token=admin)["events"]["edges"][0]["node"]["id"]
        api.data(UPDATE, {"i": {"endpointId": endpoint, "enabled": True}}, token=admin)
        redelivered = api.data("mutation($i: RedeliverEventInput!) { redeliverEvent(input: $i) { delivery { id status } "
                               "userErrors { code } } }", {"i": {"endpointId": endpoint, "eventId": event}},
                               token=admin)["redeliverEvent"]
        assert redelivered["userErrors"] == [] and redelivered["delivery"]["status"] == "PENDING"
        [got] = hook.wait_for(1)
        assert got.headers["webhook-id"] == event
        for bad in ({"endpointId": "nope", "eventId": event}, {"endpointId": endpoint, "eventId": "nope"}):
            refused = api.data("mutation($i: RedeliverEventInput!) { redeliverEvent(input: $i) { userErrors { code } } }",
                               {"i": bad}, token=admin)["redeliverEvent"]
            assert refused["userErrors"] == [{"code": "NOT_FOUND"}]
        gone = api.data("mutation($i: WebhookEndpointActionInput!) { deleteWebhookEndpoint(input: $i) { "
                        "endpoint { id } userErrors { code } } }", {"i": {"endpointId": endpoint}},
                        token=admin)["deleteWebhookEndpoint"]
        assert gone == {"endpoint": {"id": endpoint}, "userErrors": []}
        assert api.data("{ webhookEndpoints { edges { node { id } } } }", token=admin)["webhookEndpoints"]["edges"] == []
        actions = [e["node"]["action"] for e in api.data("{ auditLog { edges { node { action } } } }",
                                                          token=admin)["auditLog"]["edges"]]
        assert actions[:4] == ["WEBHOOK_ENDPOINT_DELETED", "EVENT_REDELIVERED", "WEBHOOK_ENDPOINT_UPDATED",
                               "WEBHOOK_ENDPOINT_UPDATED"]


def test_refused_endpoints_and_who_may_manage_them(api: Api, admin: str) -> None:
    _, token = api.sign_up("ann@example.com", "Ann")
    for url in ("ftp://example.com/x", "https://user:pass@example.com/x", "not a url", "https://" + "a" * 2001):
        assert create(api, admin, url, ["MEMBER_SIGNED_UP"])["userErrors"] == [
            {"code": "INVALID_INPUT", "field": ["input", "url"]}], url
    assert create(api, admin, "https://example.com/x", [])["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "eventTypes"]}]
    body = api.gql(CREATE, {"i": {"url": "https://example.com/x", "eventTypes": ["MEMBER_SIGNED_UP"]}}, token=token)
    assert codes(body) == ["FORBIDDEN"]
    assert codes(api.gql("{ webhookEndpoints { edges { node { id } } } }", token=token)) == ["FORBIDDEN"]


def test_private_addresses_are_refused_unless_allowed(tmp_path: Any) -> None:
    settings = Settings(db_path=tmp_path / "ssrf.db", jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        api, admin = Api(client), auth.admin_token(SECRET, 60)
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.8/x", "http://169.254.169.254/x",
                    "http://[::1]/x", "http://192.168.1.1/x"):
            assert create(api, admin, url, ["MEMBER_SIGNED_UP"])["userErrors"] == [
                {"code": "INVALID_INPUT", "field": ["input", "url"]}], url
        assert create(api, admin, "https://hooks.example.com/in", ["MEMBER_SIGNED_UP"])["userErrors"] == []


def test_a_slow_receiver_delays_neither_the_api_nor_other_endpoints(api: Api, admin: str) -> None:
    with receiver() as slow, receiver() as fast:
        slow.delay = 11  # past the 10 s timeout
        create(api, admin, slow.url, ["MEMBER_SIGNED_UP"])
        create(api, admin, fast.url, ["MEMBER_SIGNED_UP"])
        started = time.monotonic()
        for i in range(3):
            api.sign_up(f"m{i}@example.com")
        fast.wait_for(3, seconds=5)
        assert time.monotonic() - started < 5
        assert api.client.get("/healthz").status_code == 200
        assert api.client.get("/readyz").status_code == 200  # a receiver's troubles are not the service's
        metrics = api.client.get("/metrics").text
        assert 'invite_credits_webhook_deliveries_total{outcome="succeeded"} 3.0' in metrics
