"""The thin request path: `POST /graphql` with JSON and GET queries, handled as plain functions.

Strawberry stays how the schema is written; its per-operation machinery (extension hooks, wrappers built per
request) cost about as much as the query itself. This path does the same steps directly: the document from the
persisted documents or the parse cache, the operation type, validation and the limits from the same caches,
graphql-core's `execute` on the schema Strawberry built (the same types and resolvers), then the error policy,
the metrics and the log line. Anything else (GraphiQL, subscriptions, other content types) goes to
Strawberry's view, as before. The answers are the same byte for byte (tests/test_thin_path.py).
"""

from __future__ import annotations

import time
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    specified_rules,
)
from starlette.requests import Request
from starlette.responses import Response

from .api.errors import is_request_error, process_error
from .api.limits import coerced_variables
from .errors_http import GRAPHQL_RESPONSE
from .internals import execution_context_class_kwargs, graphql_schema, optimized_is_awaitable
from .observability import observe
from .plans import Plans

if TYPE_CHECKING:
    from .graphql_view import GraphQLView


def client_address(scope: Any) -> str:
    """The client's address as the server saw it (behind trusted proxies, the one X-Forwarded-For names)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"

RULES = tuple(specified_rules)
_OPERATION_WORDS = {OperationType.QUERY: "queries", OperationType.MUTATION: "mutations",
                    OperationType.SUBSCRIPTION: "subscriptions"}


def selected_operation(document: DocumentNode, name: str | None, method: str) -> OperationDefinitionNode:
    """The operation a request runs: the one named, or the document's only one (GraphQL's GetOperation); else a
    request error (400). By GET only a query runs (405: send it by POST)."""
    operation = get_operation_ast(document, name)
    if operation is not None:
        if method == "GET" and operation.operation is OperationType.MUTATION:
            raise HTTPException(405, f"{_OPERATION_WORDS[operation.operation]} are not allowed when using GET: "
                                     "send them by POST")
        return operation
    if name is not None:
        raise HTTPException(400, f'Unknown operation named "{name}".')
    if any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        raise HTTPException(400, "The document has several operations: say which to run in `operationName`.")
    raise HTTPException(400, "The document has no operation to run.")


def handles(request: Request) -> bool:
    """JSON POSTs, and GETs that carry an operation (a browser's GET for GraphiQL goes to the view)."""
    if request.method == "POST":
        return "application/json" in request.headers.get("content-type", "").split(";")[0]
    if request.method == "GET":
        params = request.query_params
        return "query" in params or "extensions" in params or "documentId" in params
    return False


class ThinPath:
    def __init__(self, view: GraphQLView) -> None:
        self.view = view
        self.schema = graphql_schema(view.schema)
        self.policy = view.schema.document_policy  # type: ignore[attr-defined]
        self.executor = execution_context_class_kwargs(view.schema.execution_context_class)  # type: ignore[attr-defined]
        self.plans = Plans(self.schema, view.schema.execution_context_class,  # type: ignore[attr-defined]
                           optimized_is_awaitable) if view.app_state.settings.compiled_plans else None

    async def respond(self, request: Request, media_type: str) -> Response | None:
        """The response, or None when the view must answer (a subscription over HTTP)."""
        started = time.perf_counter()
        data = await self._request_data(request)
        query, variables, name, extensions = self.view.request_fields(data)
        query = self.view.persisted.resolve(query, extensions, data.get("documentId"))  # a dict, once checked
        if query is None:
            raise HTTPException(400, "No GraphQL query found in the request")
        context = self.view.make_context(request.scope)
        document = self.policy.pinned.get(query)
        pinned = document is not None
        errors: list[GraphQLError] = []
        if document is None:
            try:
                document = self.policy.parse(query)
            except GraphQLError as error:
                errors = [error]
        result: ExecutionResult
        if document is None:
            result = ExecutionResult(data=None, errors=errors)
        else:
            operation = selected_operation(document, name, request.method)
            if operation.operation is OperationType.SUBSCRIPTION:
                return None
            await self.view.limit(operation, context.actor, context.client_address)
            if not pinned:
                errors = self.policy.validate(self.schema, document, RULES)
            if not errors:
                closed = self.policy.introspection_error(document, context.actor.is_admin)
                errors = [closed] if closed else []
            if not errors:
                coerced = coerced_variables(self.schema, operation, variables)
                # Variables that do not coerce are refused by execution itself, with its own errors.
                too_costly = self.policy.cost_error(document, operation, coerced) if isinstance(coerced, dict) else None
                errors = [too_costly] if too_costly else []
            if errors:
                result = ExecutionResult(data=None, errors=errors)
            else:
                result = await self._execute(query, document, operation, context, variables, name)
        if result.errors:
            result.errors[:] = [process_error(error, context.request_id) for error in result.errors]
            if is_request_error(result.data, result.errors):
                context.mark_request_error()
        observe(context, self.schema, document, name, result.errors, time.perf_counter() - started)
        return self._response(result, media_type, context.request_error)

    async def _execute(self, query: str, document: DocumentNode, operation: OperationDefinitionNode, context: Any,
                       variables: dict[str, Any] | None, name: str | None) -> ExecutionResult:
        """From the document's compiled plan when it has one (plans/), else graphql-core's `execute`."""
        if self.plans is not None:
            return await self.plans.execute(query, document, operation, context, variables, name)
        executed = execute(self.schema, document, context_value=context, variable_values=variables,
                           operation_name=name, is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                           **self.executor)
        return await executed if isawaitable(executed) else executed

    async def _request_data(self, request: Request) -> Any:
        if request.method == "POST":
            try:
                data = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                raise HTTPException(400, "Unable to parse request body as JSON") from None
            return data
        params: dict[str, Any] = dict(request.query_params)
        for key in ("variables", "extensions"):
            if params.get(key):
                try:
                    params[key] = orjson.loads(params[key])
                except orjson.JSONDecodeError:
                    raise HTTPException(400, "Unable to parse request body as JSON") from None
        return params

    @staticmethod
    def _response(result: ExecutionResult, media_type: str, request_error: bool) -> Response:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        status = 200
        if media_type == GRAPHQL_RESPONSE and request_error:
            # application/graphql-response+json: a request that never executed is a 400 without `data`.
            status = 400
            del body["data"]
        return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def replay_body(body: bytes) -> Any:
    """A `receive` that hands the view a body this path already read."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


__all__ = ["ThinPath", "handles", "replay_body", "selected_operation"]
