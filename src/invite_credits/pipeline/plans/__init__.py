"""Compiled plans for query documents: what graphql-core works out per request, worked out once per document.

graphql-core's executor, for every object of every request, collects the selection's fields (fragments,
directives, merging), looks up each field's definition, builds a resolve info, calls the resolver through
Strawberry's wrapper and completes the value by the return type's shape. For a given document and object type
all of that but the resolver calls and the values is the same every time. A plan holds it: per object type, the
fields to produce with their resolvers, argument values and completion shapes, so a request only calls
resolvers and builds the response.

Semantics are graphql-core's, step for step: the same resolvers (Strawberry's, with the resolve info Strawberry's
executor class builds, made without building the executor: runner.RequestExecutor), variables coerced by
graphql-core, arguments from literals once or from variables per
request, aliases, fragments, `__typename`, leaf coercion, `is_type_of` and `resolve_type`, errors located with
their path, and null bubbling to the nearest nullable parent. `@skip`/`@include` on a variable give one plan
per set of the values they read. What a plan does not cover runs on graphql-core: mutations and subscriptions,
introspection, resolvers that are coroutines, and anything a resolver returns that is awaitable.
tests/test_plans.py requires the same answers as graphql-core, byte for byte, for every query of the thin-path
suite and more, as four callers, and for selections Hypothesis makes up over the schema.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)

from ...api.internals import VariableValues, get_variable_values
from .compiler import Compiler, FieldPlan, NotCompilable
from .runner import Executor, NotSynchronous, RequestExecutor, Run

# -- plans per document -------------------------------------------------------------------------------------
_UNCOMPILABLE: list[FieldPlan] = []


class Plans:
    """Runs operations: from a compiled plan when the document has one, else on graphql-core's executor (of
    the class Strawberry's schema names, whose resolve infos a plan's run builds alike). Plans are kept by (query text, operation name, the values of the variables its
    `@skip`/`@include` read), least recently used first out; a document a plan does not cover is remembered
    too, so it is tried once."""

    def __init__(self, schema: GraphQLSchema, executor_class: type[Any], is_awaitable: Callable[[Any], bool],
                 size: int = 256, direct: Callable[[GraphQLField], Callable[..., Any] | None] | None = None) -> None:
        self.schema = schema
        self.direct = direct  # the Compiler's: a field's resolver without its per-call wrapper
        self.executor_class = executor_class
        self.is_awaitable = is_awaitable
        self.size = size
        self._plans: OrderedDict[tuple[Any, ...], list[FieldPlan]] = OrderedDict()
        self._conditions: OrderedDict[tuple[str, str | None], tuple[str, ...]] = OrderedDict()
        self.planned = 0  # operations answered from a plan (tests and the bench read it)

    async def execute(self, query: str, document: DocumentNode, operation: OperationDefinitionNode,
                      context: Any, variables: Mapping[str, Any] | None, name: str | None,
                      coerced: VariableValues | None = None) -> ExecutionResult:
        """What graphql-core's `execute` answers, byte for byte; `coerced`: the variables, when the caller has
        already coerced them."""

        planned = self.planned_result(query, document, operation, context, variables, name, coerced)
        if planned is not None:
            return planned
        executor = self._build(document, context, variables, name)
        if isinstance(executor, list):  # variables that do not coerce
            return ExecutionResult(data=None, errors=executor)
        executed = executor.execute_operation()
        return await executed if isawaitable(executed) else executed  # type: ignore[no-any-return]

    def planned_result(self, query: str, document: DocumentNode, operation: OperationDefinitionNode, context: Any,
                       variables: Mapping[str, Any] | None, name: str | None,
                       coerced: VariableValues | None = None) -> ExecutionResult | None:
        """A query's answer from its plan, synchronously (no resolver awaited): what `execute` answers; None when
        the document has no plan or its run met an awaitable (then `execute` runs it on graphql-core)."""
        if operation.operation is not OperationType.QUERY:
            return None
        # The variables as the executor's build coerces them; a plan runs without the executor itself.
        values = coerced if coerced is not None else get_variable_values(
            self.schema, operation.variable_definitions or (), dict(variables or {}),
            max_errors=50)  # Executor.build's default (max_coercion_errors)
        if isinstance(values, list):  # variables that do not coerce
            return ExecutionResult(data=None, errors=values)
        plans = self._plan(query, document, operation, name, values.coerced)
        if plans is None:
            return None
        result = self._run(RequestExecutor(self.schema, document, operation, context, values, self.is_awaitable,
                                           lambda: self._build(document, context, variables, name)), plans)
        if result is not None:
            self.planned += 1
        return result

    def _build(self, document: DocumentNode, context: Any, variables: Mapping[str, Any] | None,
               name: str | None) -> Any:
        return self.executor_class.build(self.schema, document, None, context, variables, name,
                                         is_awaitable=self.is_awaitable)

    def _plan(self, query: str, document: DocumentNode, operation: OperationDefinitionNode, name: str | None,
              values: Mapping[str, Any]) -> list[FieldPlan] | None:
        conditions = self._remember(self._conditions, (query, name), lambda: _condition_variables(document))
        key = (query, name, *(values.get(v) for v in conditions))

        def compile_() -> list[FieldPlan]:
            try:
                compiler = Compiler(self.schema, document, {v: values.get(v) for v in conditions},
                                    **({"direct": self.direct} if self.direct else {}))
                return compiler.operation(operation)
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
        run = Run(executor)
        data: dict[str, Any] | None
        try:
            data = run.object(plans, None, None)
        except NotSynchronous:
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


__all__ = ["Compiler", "FieldPlan", "NotCompilable", "Plans", "Run"]
