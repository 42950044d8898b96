"""The one request pipeline: every GraphQL operation, whichever transport carried it, goes through here.

HTTP (`POST` with JSON, `GET` with a query string) calls `Pipeline.run`; a WebSocket's graphql-transport-ws
`subscribe` message calls `Pipeline.stream`. Both take the same steps, in this order:

1. the document: a persisted or trusted document by its id, or the text sent (`persisted.py`; under trusted
   documents only the manifest's documents run, on every transport);
2. parse, through the policy's bounded cache (trusted documents are parsed and validated once, at start);
3. the operation the request names (GraphQL's GetOperation) - by GET only a query;
4. a mutation's rate limits (`ratelimits.py`);
5. validation (cached), introspection when it is closed, then the cost of the coerced variables;
6. execution on graphql-core with Strawberry's execution context: queries from a compiled plan when the
   document has one (`plans/`), subscriptions as an event stream;
7. the error policy (`api/errors.py`: codes, masking, one traceback in the log) on every error;
8. one latency observation, one outcome count and one log line (`observe.py`).

Strawberry is how the schema is written; it also keeps GraphiQL and the graphql-transport-ws protocol, whose
handler asks this module for each operation's results (`http/websocket.py`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from inspect import isawaitable
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    create_source_event_stream,
    execute,
    execute_subscription_event,
    get_operation_ast,
    located_error,
    map_source_to_response_event,
    specified_rules,
)

from ..api.context import Context
from ..api.errors import MalformedRequest, is_request_error, process_error
from ..api.internals import (
    VariableValues,
    completing_elsewhere,
    direct_resolver,
    execution_context_class_kwargs,
    graphql_schema,
    optimized_is_awaitable,
)
from ..api.limits import DocumentPolicy, coerced_variables
from ..api.schema import create_schema
from ..settings import Settings
from .observe import observe
from .persisted import PersistedDocuments, load_manifest
from .plans import Plans
from .ratelimits import RateLimiter

RULES = tuple(specified_rules)
_OPERATION_WORDS = {OperationType.QUERY: "queries", OperationType.MUTATION: "mutations",
                    OperationType.SUBSCRIPTION: "subscriptions"}


class GraphQLRequest(NamedTuple):
    """What one request asks for, whatever carried it: GraphQL over HTTP's fields, and `documentId` (a trusted
    document's id). Immutable, as a tuple (a frozen dataclass costs a microsecond more per request)."""

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> GraphQLRequest:
        """The request in one JSON object, each field of its type or null; else MalformedRequest (400)."""
        if not isinstance(data, dict):
            kind = "a batch (array) of operations" if isinstance(data, list) else f"JSON {type(data).__name__}"
            raise MalformedRequest(400, f"The request body must be one JSON object with `query`, not {kind}.")
        for key, expected in (("query", str), ("variables", dict), ("operationName", str), ("extensions", dict),
                              ("documentId", str)):
            value = data.get(key)
            if value is not None and not isinstance(value, expected):
                raise MalformedRequest(400, f"`{key}` must be {'a string' if expected is str else 'an object'} "
                                            "or null.")
        return cls(data.get("query"), data.get("variables"), data.get("operationName"), data.get("extensions"),
                   data.get("documentId"))


class _Prepared(NamedTuple):
    """A request that passed every check before execution."""

    document: DocumentNode
    operation: OperationDefinitionNode
    query: str
    variables: VariableValues | None  # coerced (None: they do not coerce, and execution says why)


def selected_operation(document: DocumentNode, name: str | None, method: str) -> OperationDefinitionNode:
    """The operation a request runs: the one named, or the document's only one (GraphQL's GetOperation); else a
    request error (400). By GET only a query runs (405: send it by POST)."""
    operation = get_operation_ast(document, name)
    if operation is not None:
        if method == "GET" and operation.operation is not OperationType.QUERY:
            raise MalformedRequest(405, f"{_OPERATION_WORDS[operation.operation]} are not allowed when using GET: "
                                        "send them by POST", allow="POST")
        return operation
    if name is not None:
        raise MalformedRequest(400, f'Unknown operation named "{name}".')
    if any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        raise MalformedRequest(400, "The document has several operations: say which to run in `operationName`.")
    raise MalformedRequest(400, "The document has no operation to run.")


class Pipeline:
    """The request policy of every transport (see the module's docstring)."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        s = settings
        trusted = load_manifest(s.trusted_documents) if s.trusted_documents else None
        self.strawberry_schema = create_schema(
            max_depth=s.max_query_depth, max_tokens=s.max_query_tokens, max_aliases=s.max_query_aliases,
            max_cost=s.max_query_cost, max_fields=s.max_query_fields, introspection=s.introspection,
            cache_size=s.document_cache_size, trusted=(trusted or {}).values())
        self.schema = graphql_schema(self.strawberry_schema)
        self.policy: DocumentPolicy = self.strawberry_schema.document_policy  # type: ignore[attr-defined]
        self.persisted = PersistedDocuments(cache_size=s.apq_cache_size, trusted=trusted)
        self.limiter = limiter
        executor_class = self.strawberry_schema.execution_context_class
        self.executor = execution_context_class_kwargs(executor_class)
        self._completing_off_loop = completing_elsewhere(
            executor_class, lambda context: context.service.db.loop_reads_refused(),
            lambda context, completion: context.service.db.offload_async(completion, "read"))
        self.plans = Plans(self.schema, executor_class, optimized_is_awaitable,
                           direct=lambda definition: direct_resolver(definition, self.strawberry_schema)
                           ) if s.compiled_plans else None

    # -- the transports' entry points ----------------------------------------------------------------------
    async def run(self, request: GraphQLRequest, context: Context, method: str) -> ExecutionResult:
        """A query or a mutation by HTTP: its result, every error through the error policy, observed once.
        Raises what refuses the request before GraphQL runs (a persisted document unknown, a rate limit, a
        malformed request); the transport answers those through the error table."""
        started = time.perf_counter()
        prepared = await self._prepare(request, context, method)
        if isinstance(prepared, ExecutionResult):
            return self._finish(prepared, context, None, request.operation_name, started)
        if prepared.operation.operation is OperationType.SUBSCRIPTION:
            raise MalformedRequest(400, "Subscriptions run over a WebSocket (graphql-transport-ws) on this same path.")
        result = await self._execute(prepared, context, request)
        return self._finish(result, context, prepared.document, request.operation_name, started)

    async def stream(self, request: GraphQLRequest, context: Context) -> AsyncIterator[ExecutionResult]:
        """Any operation over a WebSocket: a subscription's events, or a query's or a mutation's one result.
        Errors before execution are one result without data whose errors have no path (the socket's `error`
        message); a refusal raises, as `run`'s do."""
        started = time.perf_counter()
        prepared = await self._prepare(request, context, "WS")
        if isinstance(prepared, ExecutionResult):
            yield self._finish(prepared, context, None, request.operation_name, started)
            return
        if prepared.operation.operation is not OperationType.SUBSCRIPTION:
            result = await self._execute(prepared, context, request)
            yield self._finish(result, context, prepared.document, request.operation_name, started)
            return
        events = await self._subscribe(prepared, context, request)
        if isinstance(events, ExecutionResult):  # the event stream could not be made
            yield self._finish(events, context, prepared.document, request.operation_name, started)
            return
        observe(context, self.schema, prepared.document, request.operation_name, None, time.perf_counter() - started)
        try:
            async for event in events:
                if event.errors:
                    event.errors[:] = [process_error(error, context.request_id) for error in event.errors]
                yield event
        except Exception as exc:  # noqa: BLE001 - the source stream failed (a signed-out token...): its last event
            field = prepared.operation.selection_set.selections[0]
            key = (field.alias or field.name).value if isinstance(field, FieldNode) else None
            error = located_error(exc, [field], [key] if key is not None else None)
            yield ExecutionResult(None, [process_error(error, context.request_id)])
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _subscribe(self, prepared: _Prepared, context: Context,
                         request: GraphQLRequest) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """graphql-core's `subscribe`, with each event's fields completed where reads cannot hold the event loop
        up (a ledgerEntryAdded's nested fields read the store): see `_execute`."""
        executor = self.executor.get("executor_class", Executor).build(
            self.schema, prepared.document, context_value=context, raw_variable_values=request.variables,
            operation_name=request.operation_name)
        if isinstance(executor, list):
            return ExecutionResult(None, executor)
        stream = create_source_event_stream(executor)
        if isawaitable(stream):
            stream = await stream
        if isinstance(stream, ExecutionResult):
            return stream
        db = context.service.db

        def event(per_event: Executor[Any]) -> Any:
            if not db.reads_off_loop:
                return execute_subscription_event(per_event)

            async def completed() -> ExecutionResult:
                result = execute_subscription_event(per_event)
                return await result if isawaitable(result) else result

            return db.offload_async(completed)

        return map_source_to_response_event(executor, stream, event)

    # -- the steps -----------------------------------------------------------------------------------------
    async def _prepare(self, request: GraphQLRequest, context: Context,
                       method: str) -> _Prepared | ExecutionResult:
        """Steps 1 to 5: the checked document and operation, or the errors a response carries instead."""
        query = self.persisted.resolve(request.query, request.extensions, request.document_id)
        if query is None:
            raise MalformedRequest(400, "No GraphQL query found in the request")
        document = self.policy.pinned.get(query)
        pinned = document is not None
        if document is None:
            try:
                document = self.policy.parse(query)
            except GraphQLError as error:
                return ExecutionResult(None, [error])
        operation = selected_operation(document, request.operation_name, method)
        await self._limit(operation, context)
        errors = [] if pinned else self.policy.validate(document, self.schema, RULES)
        if not errors:
            closed = self.policy.introspection_error(document, context.actor.is_admin)
            errors = [closed] if closed else []
        variables: VariableValues | None = None
        if not errors:
            coerced = coerced_variables(self.schema, operation, request.variables)
            # Variables that do not coerce are refused by execution itself, with its own errors.
            if not isinstance(coerced, list):
                variables = coerced
                too_costly = self.policy.cost_error(document, operation, coerced.coerced)
                errors = [too_costly] if too_costly else []
        if errors:
            return ExecutionResult(None, errors)
        return _Prepared(document, operation, query, variables)

    async def _limit(self, operation: OperationDefinitionNode, context: Context) -> None:
        """A mutation takes a token from its member's bucket, and signUp from its address's; RateLimited when
        one is empty."""
        if operation.operation is not OperationType.MUTATION:
            return
        signs_up = any(isinstance(s, FieldNode) and s.name.value == "signUp" for s in operation.selection_set.selections)
        await self.limiter.take(self.limiter.buckets(member_id=context.actor.member_id, anonymous=False,
                                                     address=context.client_address, mutation=True,
                                                     signs_up=signs_up))

    async def _execute(self, prepared: _Prepared, context: Context, request: GraphQLRequest) -> ExecutionResult:
        """Where reads cannot hold the event loop up: all here on SQLite. On PostgreSQL, a query whose compiled
        plan runs without awaiting as one read job (`Store.offload`), else on a reader thread (with a loop of its
        own for the resolvers that await), within the store's deadline for a read; a
        mutation's resolvers here, within the deadline for a write, so that a write waiting for its member's turn
        (store: `write`) holds no thread, and each of its payloads here too, unless one of its fields has to read
        the store: then on a reader thread (api/internals.py's `completing_elsewhere`)."""
        db = context.service.db
        if not db.reads_off_loop:
            return await self._run(prepared, context, request)
        if prepared.operation.operation is OperationType.MUTATION:
            return await db.within(lambda: self._mutate(prepared, context, request), "write")
        if self.plans is not None and prepared.operation.operation is OperationType.QUERY:
            # A query whose plan runs without awaiting: as one read of the store (a job on PostgreSQL).
            plans = self.plans
            planned = await db.offload(lambda: plans.planned_result(
                prepared.query, prepared.document, prepared.operation, context, request.variables,
                request.operation_name, prepared.variables))
            if planned is not None:
                return planned
        return await db.offload_async(lambda: self._run(prepared, context, request), "read")

    async def _mutate(self, prepared: _Prepared, context: Context, request: GraphQLRequest) -> ExecutionResult:
        executed = execute(self.schema, prepared.document, context_value=context, variable_values=request.variables,
                           operation_name=request.operation_name, is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                           executor_class=self._completing_off_loop)
        return await executed if isawaitable(executed) else executed

    async def _run(self, prepared: _Prepared, context: Context, request: GraphQLRequest) -> ExecutionResult:
        """From the document's compiled plan when it has one (plans/), else graphql-core's `execute`."""
        if self.plans is not None:
            return await self.plans.execute(prepared.query, prepared.document, prepared.operation, context,
                                            request.variables, request.operation_name, prepared.variables)
        executed = execute(self.schema, prepared.document, context_value=context, variable_values=request.variables,
                           operation_name=request.operation_name, is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                           **self.executor)
        return await executed if isawaitable(executed) else executed

    def _finish(self, result: ExecutionResult, context: Context, document: DocumentNode | None, name: str | None,
                started: float) -> ExecutionResult:
        if result.errors:
            result.errors[:] = [process_error(error, context.request_id) for error in result.errors]
            if is_request_error(result.data, result.errors):
                context.mark_request_error()
        observe(context, self.schema, document, name, result.errors, time.perf_counter() - started)
        return result



__all__ = ["GraphQLRequest", "Pipeline", "selected_operation"]
