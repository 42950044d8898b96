"""Compiling a query document into plans: per object type, the fields to produce, each with its resolver, its arguments
(from literals, once) and the shape of its completion."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)

from ...api.internals import get_argument_values, is_default_resolver, is_type_of_ignores_info


class NotCompilable(Exception):
    """The document uses something a plan does not cover: graphql-core runs it."""


# -- the plan -----------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Shape:
    """How to complete a value of one output type: non-null, list, leaf, object or abstract."""

    kind: str
    type: GraphQLOutputType
    inner: Shape | None = None
    fields: list[FieldPlan] | None = None  # an object's
    by_type: dict[str, list[FieldPlan]] = field(default_factory=dict)  # an abstract type's, per runtime type
    nodes: list[FieldNode] = field(default_factory=list)
    memo: dict[Any, Any] | None = None  # an enum's: its answer per value (at most memo_size)
    memo_size: int = 0
    exact: builtins.type | None = None  # a built-in scalar's: a value of exactly this type is its own answer (in range)
    checks_without_info: bool = False  # an object's: its `is_type_of` reads the value only

    def __post_init__(self) -> None:
        if self.kind == "leaf":
            if isinstance(self.type, GraphQLEnumType):
                self.memo, self.memo_size = {}, 2 * len(self.type.values)
            self.exact = next((kind for scalar, kind in _EXACT if self.type is scalar), None)
        if self.kind == "object" and isinstance(self.type, GraphQLObjectType) and self.type.is_type_of:
            self.checks_without_info = is_type_of_ignores_info(self.type.is_type_of)


# graphql-core's own scalars answer a value of exactly these types with the value itself (an Int within 32 bits).
_EXACT = ((GraphQLString, str), (GraphQLID, str), (GraphQLBoolean, bool), (GraphQLInt, int))


@dataclass(eq=False)
class FieldPlan:
    key: str
    nodes: list[FieldNode]
    definition: GraphQLField
    parent: GraphQLObjectType
    resolve: Callable[..., Any] | None  # None: __typename
    basic: bool  # Strawberry's resolver of a plain attribute: needs neither info nor arguments
    arguments: dict[str, Any] | None  # None: from variables, per request
    shape: Shape
    flat: bool = field(init=False)  # a leaf, nullable or not: completing it needs no path

    def __post_init__(self) -> None:
        shape = self.shape.inner if self.shape.kind == "non_null" else self.shape
        self.flat = shape is not None and shape.kind == "leaf"


class Compiler:
    """Plans for one document; `conditions`: the values of the variables its `@skip`/`@include` read."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 conditions: Mapping[str, Any] | None = None,
                 direct: Callable[[GraphQLField], Callable[..., Any] | None] = lambda _definition: None) -> None:
        self.schema = schema
        self.direct = direct  # a field's resolver without its library's per-call wrapper, when it has one
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.conditions = conditions or {}

    def operation(self, operation: OperationDefinitionNode) -> list[FieldPlan]:
        if operation.operation is not OperationType.QUERY or self.schema.query_type is None:
            raise NotCompilable("only queries")
        if any(fragment.variable_definitions for fragment in self.fragments.values()):
            raise NotCompilable("fragment variables")
        return self.object_fields(self.schema.query_type, [operation.selection_set])

    def object_fields(self, object_type: GraphQLObjectType, selections: list[SelectionSetNode]) -> list[FieldPlan]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(object_type, selection_set, grouped, set())
        return [self._field(object_type, key, nodes) for key, nodes in grouped.items()]

    def _collect(self, object_type: GraphQLObjectType, selection_set: SelectionSetNode,
                 grouped: dict[str, list[FieldNode]], visited: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                grouped.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self._applies(condition, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments[name]
                if self._applies(fragment.type_condition.name.value, object_type):
                    self._collect(object_type, fragment.selection_set, grouped, visited)

    def _included(self, selection: Any) -> bool:
        """graphql-core's should_include_node: skipped when `@skip(if:)` is true or `@include(if:)` false."""
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                raise NotCompilable(f"@{name}")
            argument = next((a for a in directive.arguments if a.name.value == "if"), None)
            if argument is None:
                raise NotCompilable(f"@{name} without if")
            value = argument.value
            if type(value).__name__ == "VariableNode":
                condition = self.conditions.get(value.name.value)
            elif type(value).__name__ == "BooleanValueNode":
                condition = value.value
            else:
                raise NotCompilable(f"@{name}(if: {type(value).__name__})")
            if (name == "skip" and condition is True) or (name == "include" and condition is False):
                return False
        return True

    def _applies(self, condition: str | None, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition == object_type.name:
            return True
        conditional = self.schema.get_type(condition)
        return is_abstract_type(conditional) and self.schema.is_sub_type(conditional, object_type)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name.startswith("__") and name != "__typename":
            raise NotCompilable("introspection")
        definition = self.schema.get_field(parent, name)
        if definition is None:
            raise NotCompilable(f"no field {parent.name}.{name}")
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        if strawberry_field is not None and getattr(strawberry_field, "is_async", False):
            raise NotCompilable(f"{parent.name}.{name} is a coroutine")
        resolve = None if name == "__typename" else definition.resolve
        basic = is_default_resolver(resolve)
        if resolve is not None:
            resolve = self.direct(definition) or resolve
        if resolve is None and name != "__typename":
            raise NotCompilable(f"{parent.name}.{name} has no resolver of its own")
        literal = not any(_uses_variables(argument.value) for argument in nodes[0].arguments or ())
        arguments = None
        if literal:
            try:
                arguments = get_argument_values(definition, nodes[0]) if definition.args or nodes[0].arguments else {}
            except GraphQLError as error:  # graphql-core reports it as the field's error, per request
                raise NotCompilable(error.message) from None
        return FieldPlan(key=key, nodes=nodes, definition=definition, parent=parent, resolve=resolve,
                         basic=basic, arguments=arguments,
                         shape=self.shape(definition.type, nodes))

    def shape(self, output: GraphQLOutputType, nodes: list[FieldNode]) -> Shape:
        if isinstance(output, GraphQLNonNull):
            return Shape("non_null", output, inner=self.shape(output.of_type, nodes), nodes=nodes)
        if isinstance(output, GraphQLList):
            return Shape("list", output, inner=self.shape(output.of_type, nodes), nodes=nodes)
        if is_leaf_type(output):
            return Shape("leaf", output, nodes=nodes)
        selections = [node.selection_set for node in nodes if node.selection_set is not None]
        if is_object_type(output):
            return Shape("object", output, fields=self.object_fields(output, selections), nodes=nodes)
        if is_abstract_type(output):
            possible = self.schema.get_possible_types(output)
            return Shape("abstract", output, nodes=nodes,
                         by_type={t.name: self.object_fields(t, selections) for t in possible})
        raise NotCompilable(f"output type {output}")


def _uses_variables(value: Any) -> bool:
    kind = type(value).__name__
    if kind == "VariableNode":
        return True
    if kind == "ListValueNode":
        return any(_uses_variables(v) for v in value.values)
    if kind == "ObjectValueNode":
        return any(_uses_variables(f.value) for f in value.fields)
    return False


