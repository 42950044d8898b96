"""Running a plan for one request: the resolvers called, the values completed by their shapes, errors located
and nulls bubbled as graphql-core does."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    default_type_resolver,
    is_non_null_type,
    located_error,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.values import VariableValues
from graphql.pyutils import Path, inspect, is_iterable

from ...api.internals import get_argument_values, resolve_info
from .compiler import FieldPlan, Shape

Executor = Any  # graphql-core's Executor (Strawberry's class), or a RequestExecutor standing in for one


class RequestExecutor:
    """What a plan's run reads of graphql-core's executor, for one request, without building one: building
    Strawberry's execution context per request (its incremental executor, maps and the variables' container,
    none of which a plan reads) cost about 7% of a balance query. Resolve infos are built as Strawberry's executor
    builds them (`internals.resolve_info`); the executor itself is built only for what a plan does rarely, an
    abstract type's runtime type."""

    __slots__ = ("_build", "_executor", "_fragments", "context", "document", "is_awaitable", "operation", "schema",
                 "variable_values")
    hide_suggestions = False  # graphql-core's default, as the executor the pipeline builds
    type_resolver = staticmethod(default_type_resolver)

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                 context: Any, variable_values: VariableValues, is_awaitable: Callable[[Any], bool],
                 build: Callable[[], Executor]) -> None:
        self.schema, self.document, self.operation, self.context = schema, document, operation, context
        self.variable_values, self.is_awaitable = variable_values, is_awaitable
        self._build = build
        self._executor: Executor = None
        self._fragments: dict[str, FragmentDefinitionNode] | None = None

    def build_resolve_info(self, definition: GraphQLField, nodes: list[FieldNode], parent: GraphQLObjectType,
                           path: Path) -> Any:
        if self._fragments is None:
            self._fragments = {d.name.value: d for d in self.document.definitions
                               if isinstance(d, FragmentDefinitionNode)}
        return resolve_info(definition, nodes, parent, path, self.schema, self._fragments, self.operation,
                            self.variable_values, self.context, self.is_awaitable)

    def ensure_valid_runtime_type(self, *arguments: Any) -> GraphQLObjectType:
        if self._executor is None:
            self._executor = self._build()
        runtime: GraphQLObjectType = self._executor.ensure_valid_runtime_type(*arguments)
        return runtime


class NotSynchronous(Exception):
    """A resolver returned an awaitable after all: graphql-core runs the document instead."""


# -- running a plan -----------------------------------------------------------------------------------------
class Run:
    """One request's execution of a plan, with the executor graphql-core would have used."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable  # the one graphql-core would use (Strawberry's: cheaper)
        self.errors: list[GraphQLError] = []

    def object(self, plans: list[FieldPlan], source: Any, path: Path | None) -> dict[str, Any]:
        """An object's fields (each plan knows its parent type)."""
        data: dict[str, Any] = {}
        for plan in plans:
            data[plan.key] = self.field(plan, source, path)
        return data

    def field(self, plan: FieldPlan, source: Any, parent: Path | None) -> Any:
        """The field's completed value. Its path is made only when something needs it: a resolve info, a
        nested value, an error (a leaf read from an attribute, most of a page, needs none)."""
        info = None
        path: Path | None = None
        try:
            if plan.resolve is None:
                result: Any = plan.parent.name
            elif plan.basic:
                result = plan.resolve(source, None)
                if plan.flat:  # `complete` for a leaf, unrolled: most of a page's fields
                    if isinstance(result, Exception):
                        raise result
                    shape = plan.shape
                    if result is None or result is Undefined:
                        if shape.kind == "non_null":
                            raise TypeError(f"Cannot return null for non-nullable field {plan.parent}."
                                            f"{plan.nodes[0].name.value}.")
                        return None
                    return _leaf(shape.inner if shape.inner is not None else shape, result)
            else:
                path = Path(parent, plan.key, plan.parent.name)
                info = self._info(plan, path)
                arguments = plan.arguments
                if arguments is None:
                    arguments = get_argument_values(plan.definition, plan.nodes[0], self.executor.variable_values,
                                                    None, self.executor.hide_suggestions)
                result = plan.resolve(source, info, **arguments)
                if self.is_awaitable(result):
                    if hasattr(result, "close"):
                        result.close()
                    raise NotSynchronous
            if path is None:
                path = Path(parent, plan.key, plan.parent.name)
            return self.complete(plan, plan.shape, info, path, result)
        except NotSynchronous:
            raise
        except Exception as raw_error:
            if path is None:
                path = Path(parent, plan.key, plan.parent.name)
            error = located_error(raw_error, plan.nodes, path.as_list())
            if is_non_null_type(plan.definition.type):
                raise error from None
            self.errors.append(error)
            return None

    def _info(self, plan: FieldPlan, path: Path) -> Any:
        return self.executor.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)

    def complete(self, plan: FieldPlan, shape: Shape, info: Any, path: Path | None, result: Any) -> Any:
        """`result` completed by `shape`; `path` may be None only for a leaf (plan.flat)."""
        if isinstance(result, Exception):
            raise result
        if shape.kind == "non_null":
            assert shape.inner is not None
            completed = self.complete(plan, shape.inner, info, path, result)
            if completed is None:
                raise TypeError(f"Cannot return null for non-nullable field {plan.parent}.{plan.nodes[0].name.value}.")
            return completed
        if result is None or result is Undefined:
            return None
        if shape.kind == "leaf":
            return _leaf(shape, result)
        assert path is not None
        if shape.kind == "list":
            return self._list(plan, shape, info, path, result)
        object_type: GraphQLObjectType
        fields: list[FieldPlan] | None
        if shape.kind == "abstract":
            if info is None:
                info = self._info(plan, path)
            abstract: GraphQLAbstractType = shape.type  # type: ignore[assignment]
            resolve_type = abstract.resolve_type or self.executor.type_resolver
            runtime = resolve_type(result, info, abstract)
            if self.is_awaitable(runtime):
                raise NotSynchronous
            object_type = self.executor.ensure_valid_runtime_type(runtime, abstract, _details(plan.nodes), info,
                                                                  result)
            fields = shape.by_type.get(object_type.name)
        else:
            object_type, fields = shape.type, shape.fields  # type: ignore[assignment]
        if object_type.is_type_of:  # the resolve info only when something will read it
            if info is None and not (shape.kind == "object" and shape.checks_without_info):
                info = self._info(plan, path)
            is_type_of = object_type.is_type_of(result, info)
            if self.is_awaitable(is_type_of):
                raise NotSynchronous
            if not is_type_of:
                raise GraphQLError(f"Expected value of type '{object_type}' but got: {inspect(result)}.", plan.nodes)
        assert fields is not None
        return self.object(fields, result, path)

    def _list(self, plan: FieldPlan, shape: Shape, info: Any, path: Path, result: Any) -> list[Any]:
        if not is_iterable(result):
            raise GraphQLError(f"Expected Iterable, but did not find one for field "
                               f"'{plan.parent}.{plan.nodes[0].name.value}'.")
        item_shape = shape.inner
        assert item_shape is not None
        item_non_null = item_shape.kind == "non_null"
        completed: list[Any] = []
        for index, item in enumerate(result):
            item_path = Path(path, index, None)
            if self.is_awaitable(item):
                raise NotSynchronous
            try:
                completed.append(self.complete(plan, item_shape, info, item_path, item))
            except NotSynchronous:
                raise
            except Exception as raw_error:
                error = located_error(raw_error, plan.nodes, item_path.as_list())
                if item_non_null:
                    raise error from None
                self.errors.append(error)
                completed.append(None)
        return completed


_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


def _leaf(shape: Shape, result: Any) -> Any:
    """graphql-core's leaf completion; an enum's answers are remembered per value (Strawberry's enum type
    searches its values on every call, and there are only so many)."""
    kind = type(result)
    if kind is shape.exact and (kind is not int or _MIN_INT <= result <= _MAX_INT):
        return result  # what the scalar's own coercion answers, without the call
    memo = shape.memo
    if memo is not None:
        try:
            found = memo.get(result)
        except TypeError:  # unhashable: coerce_output_value says what is wrong with it
            found = None
        if found is not None:
            return found
    leaf: GraphQLLeafType = shape.type  # type: ignore[assignment]
    coerced = leaf.coerce_output_value(result)
    if coerced is Undefined or coerced is None:
        raise TypeError(f"Expected `{inspect(leaf)}.coerce_output_value({inspect(result)})` to return "
                        f"non-nullable value, returned: {inspect(coerced)}")
    if memo is not None and isinstance(result, Enum) and len(memo) < shape.memo_size:
        memo[result] = coerced  # a member: equal only to itself and its own value, which answer the same
    return coerced


def _details(nodes: list[FieldNode]) -> list[Any]:
    """The executor's field details for an error's nodes (it reads `.node` of each)."""
    return [FieldDetails(node, None) for node in nodes]


