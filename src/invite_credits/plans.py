"""Compiled plans for query documents: what graphql-core works out per request, worked out once per document.

graphql-core's executor, for every object of every request, collects the selection's fields (fragments,
directives, merging), looks up each field's definition, builds a resolve info, calls the resolver through
Strawberry's wrapper and completes the value by the return type's shape. For a given document and object type
all of that but the resolver calls and the values is the same every time. A plan holds it: per object type, the
fields to produce with their resolvers, argument values and completion shapes, so a request only calls
resolvers and builds the response.

Semantics are graphql-core's, step for step: the same resolvers (Strawberry's, with the resolve info built by
the same executor class), variables coerced by graphql-core, arguments from literals once or from variables per
request, aliases, fragments, `__typename`, leaf coercion, `is_type_of` and `resolve_type`, errors located with
their path, and null bubbling to the nearest nullable parent. What a plan does not cover compiles to None and
runs on graphql-core: mutations and subscriptions, introspection, `@skip`/`@include` on a variable, resolvers
that are coroutines, and anything a resolver returns that is awaitable. tests/test_plans.py requires the same
answers as graphql-core, byte for byte, for every query of the suite and generated selections.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, inspect, is_iterable

Executor = Any  # graphql-core's Executor (Strawberry's class): builds resolve infos and coerces variables


class NotCompilable(Exception):
    """The document uses something a plan does not cover: graphql-core runs it."""


class _Awaitable(Exception):
    """A resolver returned an awaitable after all: graphql-core runs the document instead."""


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


class Compiler:
    """Plans for one document; `conditions`: the values of the variables its `@skip`/`@include` read."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 conditions: Mapping[str, Any] | None = None) -> None:
        self.schema = schema
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
                         basic=bool(getattr(resolve, "_is_default", False)), arguments=arguments,
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


# -- running a plan -----------------------------------------------------------------------------------------
class Run:
    """One request's execution of a plan, with the executor graphql-core would have used."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.errors: list[GraphQLError] = []

    def object(self, object_type: GraphQLObjectType, plans: list[FieldPlan], source: Any,
               path: Path | None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for plan in plans:
            data[plan.key] = self.field(plan, source, Path(path, plan.key, object_type.name))
        return data

    def field(self, plan: FieldPlan, source: Any, path: Path) -> Any:
        info = None
        try:
            if plan.resolve is None:
                result: Any = plan.parent.name
            elif plan.basic:
                result = plan.resolve(source, None)
            else:
                info = self._info(plan, path)
                arguments = plan.arguments
                if arguments is None:
                    arguments = get_argument_values(plan.definition, plan.nodes[0], self.executor.variable_values,
                                                    None, self.executor.hide_suggestions)
                result = plan.resolve(source, info, **arguments)
                if isawaitable(result):
                    if hasattr(result, "close"):
                        result.close()
                    raise _Awaitable
            return self.complete(plan, plan.shape, info, path, result)
        except _Awaitable:
            raise
        except Exception as raw_error:
            error = located_error(raw_error, plan.nodes, path.as_list())
            if is_non_null_type(plan.definition.type):
                raise error from None
            self.errors.append(error)
            return None

    def _info(self, plan: FieldPlan, path: Path) -> Any:
        return self.executor.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)

    def complete(self, plan: FieldPlan, shape: Shape, info: Any, path: Path, result: Any) -> Any:
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
            leaf: GraphQLLeafType = shape.type  # type: ignore[assignment]
            coerced = leaf.coerce_output_value(result)
            if coerced is Undefined or coerced is None:
                raise TypeError(f"Expected `{inspect(leaf)}.coerce_output_value({inspect(result)})` to return "
                                f"non-nullable value, returned: {inspect(coerced)}")
            return coerced
        if shape.kind == "list":
            return self._list(plan, shape, info, path, result)
        if info is None:
            info = self._info(plan, path)
        object_type: GraphQLObjectType
        fields: list[FieldPlan] | None
        if shape.kind == "abstract":
            abstract: GraphQLAbstractType = shape.type  # type: ignore[assignment]
            resolve_type = abstract.resolve_type or self.executor.type_resolver
            runtime = resolve_type(result, info, abstract)
            if isawaitable(runtime):
                raise _Awaitable
            object_type = self.executor.ensure_valid_runtime_type(runtime, abstract, _details(plan.nodes), info,
                                                                  result)
            fields = shape.by_type.get(object_type.name)
        else:
            object_type, fields = shape.type, shape.fields  # type: ignore[assignment]
        if object_type.is_type_of:
            is_type_of = object_type.is_type_of(result, info)
            if isawaitable(is_type_of):
                raise _Awaitable
            if not is_type_of:
                raise GraphQLError(f"Expected value of type '{object_type}' but got: {inspect(result)}.", plan.nodes)
        assert fields is not None
        return self.object(object_type, fields, result, path)

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
            if isawaitable(item):
                raise _Awaitable
            try:
                completed.append(self.complete(plan, item_shape, info, item_path, item))
            except _Awaitable:
                raise
            except Exception as raw_error:
                error = located_error(raw_error, plan.nodes, item_path.as_list())
                if item_non_null:
                    raise error from None
                self.errors.append(error)
                completed.append(None)
        return completed


def _details(nodes: list[FieldNode]) -> list[Any]:
    """The executor's field details for an error's nodes (it reads `.node` of each)."""
    from graphql.execution.collect_fields import FieldDetails

    return [FieldDetails(node, None) for node in nodes]


# -- plans per document -------------------------------------------------------------------------------------
_UNCOMPILABLE: list[FieldPlan] = []


class Plans:
    """Runs operations: from a compiled plan when the document has one, else on graphql-core, with the same
    executor either way. Plans are kept by (query text, operation name, the values of the variables its
    `@skip`/`@include` read), least recently used first out; a document a plan does not cover is remembered
    too, so it is tried once."""

    def __init__(self, schema: GraphQLSchema, executor_class: type[Any], is_awaitable: Callable[[Any], bool],
                 size: int = 256) -> None:
        self.schema = schema
        self.executor_class = executor_class
        self.is_awaitable = is_awaitable
        self.size = size
        self._plans: OrderedDict[tuple[Any, ...], list[FieldPlan]] = OrderedDict()
        self._conditions: OrderedDict[tuple[str, str | None], tuple[str, ...]] = OrderedDict()
        self.planned = 0  # operations answered from a plan (tests and the bench read it)

    async def execute(self, query: str, document: DocumentNode, operation: OperationDefinitionNode,
                      context: Any, variables: Mapping[str, Any] | None, name: str | None) -> ExecutionResult:
        """What graphql-core's `execute` answers, byte for byte."""
        executor = self.executor_class.build(self.schema, document, None, context, variables, name,
                                             is_awaitable=self.is_awaitable)
        if isinstance(executor, list):  # variables that do not coerce
            return ExecutionResult(data=None, errors=executor)
        if operation.operation is OperationType.QUERY:
            plans = self._plan(query, document, operation, name, executor.variable_values.coerced)
            if plans is not None:
                result = self._run(executor, plans)
                if result is not None:
                    self.planned += 1
                    return result
        executed = executor.execute_operation()
        return await executed if isawaitable(executed) else executed  # type: ignore[no-any-return]

    def _plan(self, query: str, document: DocumentNode, operation: OperationDefinitionNode, name: str | None,
              values: Mapping[str, Any]) -> list[FieldPlan] | None:
        conditions = self._remember(self._conditions, (query, name), lambda: _condition_variables(document))
        key = (query, name, *(values.get(v) for v in conditions))

        def compile_() -> list[FieldPlan]:
            try:
                return Compiler(self.schema, document, {v: values.get(v) for v in conditions}).operation(operation)
            except NotCompilable:
                return _UNCOMPILABLE

        plans = self._remember(self._plans, key, compile_)
        return None if plans is _UNCOMPILABLE else plans

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
        found = cache.get(key)
        if found is None:
            found = cache[key] = make()
            if len(cache) > self.size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return found

    def _run(self, executor: Executor, plans: list[FieldPlan]) -> ExecutionResult | None:
        query_type = self.schema.query_type
        assert query_type is not None
        run = Run(executor)
        data: dict[str, Any] | None
        try:
            data = run.object(query_type, plans, None, None)
        except _Awaitable:
            return None
        except GraphQLError as error:  # a non-null field's error reached the root
            run.errors.append(error)
            data = None
        return ExecutionResult(data, run.errors or None)


def _condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables any `@skip`/`@include` of the document reads, in a fixed order."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include"):
                for argument in directive.arguments:
                    if type(argument.value).__name__ == "VariableNode":
                        found.add(argument.value.name.value)
        selection_set = getattr(node, "selection_set", None)
        for child in selection_set.selections if selection_set is not None else ():
            walk(child)

    for definition in document.definitions:
        walk(definition)
    return tuple(sorted(found))
