"""Helpers to drive the HTTP app as a frontend would."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


class Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        response = self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        body = self.gql(query, variables, token)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def sign_up(self, email: str, name: str = "Member", **extra: Any) -> tuple[str, str]:
        payload = self.data(SIGN_UP, {"input": {"email": email, "name": name, **extra}})["signUp"]
        assert payload["userErrors"] == [], payload
        return payload["member"]["id"], payload["token"]


SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    member { id name email referralCode balance { available } }
    token
    userErrors { code message field }
  }
}"""


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
