"""schema.graphql is generated from the code and provides the whole public contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from invite_credits.api.schema import create_schema

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "contract_check.py"
CONTRACT = ROOT.parent / "shared" / "contract.graphql"


def test_schema_file_is_up_to_date() -> None:
    generated = str(create_schema()).rstrip() + "\n"
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == generated, (
        "schema.graphql is stale: run `invite-credits export-schema schema.graphql`")


@pytest.mark.parametrize("contract", ["contract.graphql", "contract-next.graphql"])
def test_schema_provides_the_contract(contract: str) -> None:
    if not CONTRACT_CHECK.exists():  # the contract lives beside the repository, not in it
        pytest.skip("../shared/ is not beside this checkout")
    spec = importlib.util.spec_from_file_location("contract_check", CONTRACT_CHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problems = module.check((ROOT / "schema.graphql").read_text(), (CONTRACT.parent / contract).read_text())
    assert problems == []


def test_every_type_and_field_has_a_description_or_is_plumbing() -> None:
    from graphql import GraphQLObjectType

    schema = create_schema()._schema
    undocumented = [
        name for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__") and not name.endswith(("Edge", "Payload"))
        and name not in ("Query", "Mutation") and not t.description
    ]
    assert undocumented == []


def test_no_unannounced_breaking_change_since_the_release() -> None:
    from graphql import build_schema, find_breaking_changes

    released = build_schema((ROOT / "schema.released.graphql").read_text(encoding="utf-8"))
    current = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    announced = (ROOT / "docs" / "breaking-changes.md").read_text(encoding="utf-8")
    changes = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(released, current)]
    assert [c for c in changes if f"- {c}" not in announced] == []


def test_breaking_change_check_can_fail() -> None:
    from graphql import build_schema, find_breaking_changes

    released = build_schema("type Query { a: Int b: Int }")
    assert [c.type.name for c in find_breaking_changes(released, build_schema("type Query { a: Int }"))] == [
        "FIELD_REMOVED"]


def test_every_argument_and_enum_value_has_a_description() -> None:
    from graphql import GraphQLEnumType, GraphQLObjectType

    schema = create_schema()._schema
    missing = [f"{name}.{field_name}({arg_name})"
               for name, t in schema.type_map.items() if isinstance(t, GraphQLObjectType) and not name.startswith("__")
               for field_name, field in t.fields.items() for arg_name, arg in field.args.items() if not arg.description]
    missing += [f"{name}.{value_name}" for name, t in schema.type_map.items()
                if isinstance(t, GraphQLEnumType) and not name.startswith("__")
                for value_name, value in t.values.items() if not value.description]
    assert missing == []
