"""Every private or semi-private Strawberry and graphql-core API the service leans on, in one place: what, and why.

Nothing else imports from a library's private module; tests/test_internals.py checks each name below still
exists and still behaves as used, and fails naming it when an upgrade changes it (pyproject.toml bounds both
libraries, so such an upgrade is deliberate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

from graphql import (
    Executor,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
)

# graphql-core: the field errors an execution collects (internal): see `completing_elsewhere`.
from graphql.execution.executor import CollectedErrors

# graphql-core: the coerced variables of an operation, as execution will see them (defaults filled). Cost is
# priced with them (api/limits.py), and compiled plans run with them. Not exported at the package's top level.
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path

# graphql-core: the error validation ends with when it stops early (too many errors, its work budget spent);
# api/limits.py rewords it to name the limit.
from graphql.validation.validate import ValidationAbortedError

# Strawberry: the isawaitable its own executor uses (cheaper than inspect's for its resolvers' results).
from strawberry.execution import optimized_is_awaitable
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar

# Strawberry: the keyword arguments graphql-core's `execute` and `subscribe` need to run Strawberry's execution
# context class, so the pipeline runs the schema exactly as Strawberry's own executor would.
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.base import BaseSchema

# Strawberry: the resolve info its execution context builds for every field (`build_resolve_info`: graphql-core's
# with the operation's extensions). Compiled plans build the same for their resolvers without building an
# executor per request (pipeline/plans/runner.py's RequestExecutor).
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo

# Strawberry: the graphql-transport-ws handler, subclassed to check each message and to run every operation on
# the pipeline (http/websocket.py). Used: handle_message, handle_invalid_message, `view`, and `schema`, replaced
# by an object whose `stream(query, variable_values, context_value, root_value, operation_name)` the handler
# calls from the operation's task (a task handle_subscribe creates while handle_message runs); the stream's
# first result may be a PreExecutionError (sent as the operation's `error` message), later ones ExecutionResults
# of Strawberry's type (sent as `next`).
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.execution import ExecutionResult as StrawberryResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.field import StrawberryField


def graphql_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (its `_schema`): validation, execution and plans run on it."""
    built: GraphQLSchema = schema._schema  # type: ignore[attr-defined]
    return built


def resolve_info(definition: GraphQLField, nodes: list[FieldNode], parent: GraphQLObjectType, path: Path,
                 schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], operation: OperationDefinitionNode,
                 variables: VariableValues, context: Any,
                 is_awaitable: Callable[[Any], bool]) -> GraphQLResolveInfo[Any]:
    """The resolve info Strawberry's execution context gives a field's resolver (its `build_resolve_info`), for a
    synchronous run of a plan: no abort signal and no async helpers (a resolver that returns an awaitable sends
    the document to graphql-core's executor), no operation extensions (the pipeline passes none)."""
    # Positionally, in the order of its fields (a third cheaper than by keyword; tests/test_internals.py checks
    # the order against the info Strawberry's executor builds).
    return _OperationContextAwareGraphQLResolveInfo(  # type: ignore[return-value]  # a subclass of it
        nodes[0].name.value, nodes, definition.type, parent, path, schema, fragments, None, operation,
        variables.coerced, context, is_awaitable, None, None, None)  # type: ignore[arg-type]  # as Strawberry's, given none


def direct_resolver(definition: GraphQLField, schema: BaseSchema) -> Callable[..., Any] | None:
    """A field's resolver function with graphql-core's signature, `(source, info, **arguments)`, without
    Strawberry's per-call wrapper: for such a field the wrapper only builds a Strawberry `Info`, renames the
    arguments to their Python names and passes the source as `self`, `root` or `parent` (its `_resolver`,
    `get_arguments` and `convert_arguments`), and runs an extension chain of none. Compiled plans call this.

    None (Strawberry's wrapper stays) unless every condition under which that holds does: the field is
    Strawberry's (the `strawberry-definition` back-reference graphql-core's field carries), has a synchronous
    resolver function of its own and no field extensions, the schema has no exception handlers, and each
    argument is a scalar or an enum, or a list of them, each maybe `| None` (not an input type, a `Maybe` or a
    GlobalID, which `convert_argument` changes; a list it copies, and so does this). A field Strawberry
    resolves by reading an attribute (its `_get_basic_result`) reads it with `config.default_resolver`. Used: `StrawberryField.base_resolver`, `.extensions`,
    `.is_async`, `.arguments`; `StrawberryResolver.wrapped_func`, `.self_parameter`, `.parent_parameter`,
    `.root_parameter`, `.info_parameter`; `schema.config.info_class` and `.name_converter.from_argument`;
    `schema.schema_converter.exception_handlers` and `.scalar_registry`."""
    field = (definition.extensions or {}).get("strawberry-definition")
    if not isinstance(field, StrawberryField) or field.extensions or field.is_async:
        return None
    if is_default_resolver(definition.resolve):  # Strawberry's `_get_basic_result`: the configured attribute read
        read = schema.config.default_resolver
        name = field.python_name
        if read is getattr:
            return lambda source, _info: getattr(source, name)
        return lambda source, _info: read(source, name)
    if field.base_resolver is None:
        return None
    converter = schema.schema_converter
    if converter.exception_handlers:
        return None
    config = schema.config
    names: dict[str, tuple[str, bool]] = {}  # GraphQL name: (Python name, whether the value is a list to copy)
    for argument in field.arguments:
        copy = _copied(argument.type, converter.scalar_registry)
        if copy is None or not argument.python_name:
            return None
        names[config.name_converter.from_argument(argument)] = (argument.python_name, copy)
    resolver = field.base_resolver
    function = resolver.wrapped_func
    if not callable(function):
        return None
    as_self = resolver.self_parameter is not None
    as_source = tuple(p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None)
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = config.info_class

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        kwargs = {}
        for name, value in arguments.items():
            if name in names:
                python_name, copy = names[name]
                # as convert_argument: a list is copied (graphql-core hands every request the same default)
                kwargs[python_name] = list(value) if copy and value is not None else value
        for name in as_source:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if as_self else function(**kwargs)

    return resolve


def _copied(kind: Any, registry: Any) -> bool | None:
    """How Strawberry's convert_argument changes an argument of this type when it changes nothing but a list's
    identity: False (the value as it is: a scalar or an enum, graphql-core already made it the Python value),
    True (a list of those: a copy), None (it converts: an input type, a GlobalID, a Maybe, a list of those)."""
    if isinstance(kind, StrawberryMaybe):
        return None
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    if isinstance(kind, StrawberryList):
        item = kind.of_type.of_type if isinstance(kind.of_type, StrawberryOptional) else kind.of_type
        return True if not isinstance(kind.of_type, StrawberryMaybe) and _leaf(item, registry) else None
    return False if _leaf(kind, registry) else None


def _leaf(kind: Any, registry: Any) -> bool:
    return kind is not GlobalID and (is_scalar(kind, registry) or isinstance(kind, StrawberryEnumDefinition)
                                     or has_enum_definition(kind))


def is_type_of_ignores_info(is_type_of: Callable[..., Any]) -> bool:
    """Whether an object type's `is_type_of` is the one Strawberry makes for a type with interfaces (its
    converter's `_get_is_type_of`), which reads the value and never the resolve info: plans call it with None
    instead of building an info per object. A type's own `is_type_of` gets an info, as graphql-core gives."""
    code = getattr(is_type_of, "__code__", None)
    return (getattr(is_type_of, "__qualname__", "").endswith("._get_is_type_of.<locals>.is_type_of")
            and code is not None and code.co_varnames[1:2] == ("_info",))  # its second parameter, unused


def completing_elsewhere(executor_class: type[Executor[Any]],
                         here: Callable[[Any], AbstractContextManager[Any]],
                         elsewhere: Callable[[Any, Callable[[], Awaitable[Any]]], Awaitable[Any]]
                         ) -> type[Executor[Any]]:
    """`executor_class` (Strawberry's execution context), but each root field's value is completed first on the
    event loop within `here(context_value)` (a context whose value has a `tripped` flag), and, when that trips, by
    `elsewhere(context_value, completion)`: the pipeline runs a mutation's resolvers on the event loop, where its
    writes queue per member holding no thread, and completes each payload there unless one of its fields has to
    read the store, then on a reader thread. A completion reads or raises and changes nothing, so the first try's
    value and errors are dropped when it tripped, and kept otherwise.

    Overridden: graphql-core's `Executor.complete_value` (marked private, with the parameters
    tests/test_internals.py checks), which is called with a root field's value once the resolver's awaitable is
    awaited, and whose answer is awaited when awaitable (`complete_awaitable_value`, `execute_field`). Replaced for
    the first try: the executor's `collected_errors` (graphql-core's `CollectedErrors`, internal), by one of its
    kind that also records what it was given, to give it on to the executor's own when the try holds."""

    class CompletingElsewhere(executor_class):  # type: ignore[valid-type,misc]  # a class made at run time
        collected_errors: CollectedErrors

        def complete_value(self, return_type: Any, field_details_list: Any, info: GraphQLResolveInfo[Any],
                           path: Path, result: Any, position_context: Any) -> Any:
            own = super().complete_value
            if path.prev is not None:
                return own(return_type, field_details_list, info, path, result, position_context)

            async def completed() -> Any:
                value = own(return_type, field_details_list, info, path, result, position_context)
                return await value if self.is_awaitable(value) else value

            async def tried() -> Any:
                kept, trial = self.collected_errors, _RecordedErrors()
                self.collected_errors = trial
                try:
                    with here(self.context_value) as wire:
                        value = await completed()
                except Exception:
                    if not wire.tripped:
                        trial.give_to(kept)
                        raise
                finally:
                    self.collected_errors = kept
                if not wire.tripped:
                    trial.give_to(kept)
                    return value
                return await elsewhere(self.context_value, completed)

            return tried()

    return CompletingElsewhere


class _RecordedErrors(CollectedErrors):
    """graphql-core's field errors of one try, recorded to be given on (see `completing_elsewhere`)."""

    __slots__ = ("added",)

    def __init__(self) -> None:
        super().__init__()
        self.added: list[tuple[GraphQLError, Path | None]] = []

    def add(self, error: GraphQLError, path: Path | None) -> None:
        self.added.append((error, path))
        super().add(error, path)

    def give_to(self, errors: CollectedErrors) -> None:
        for error, path in self.added:
            errors.add(error, path)


def is_default_resolver(resolve: Any) -> bool:
    """Whether a field resolves by reading an attribute (Strawberry marks its default resolver `_is_default`):
    compiled plans read such a field directly."""
    return bool(getattr(resolve, "_is_default", False))


__all__ = ["BaseGraphQLTransportWSHandler", "PreExecutionError", "StrawberryResult", "ValidationAbortedError",
           "VariableValues", "completing_elsewhere",
           "direct_resolver", "execution_context_class_kwargs", "get_argument_values", "get_variable_values", "graphql_schema", "is_default_resolver",
           "is_type_of_ignores_info", "optimized_is_awaitable", "resolve_info"]
