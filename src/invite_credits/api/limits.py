"""Document limits, each computed in time linear in the document.

A fragment's measures are worked out once and multiplied by the times it is spread, so a document of a few
hundred bytes whose fragments spread each other twice (2^20 fields once expanded) is priced in microseconds
and refused, never expanded.

- fields: the fields a document selects once its fragments are expanded (QUERY_TOO_COMPLEX);
- depth: fields with a selection set nested in one another, introspection fields left out, as Strawberry's
  depth limiter counts them (GRAPHQL_VALIDATION_FAILED);
- aliases: aliases, fragments expanded (GRAPHQL_VALIDATION_FAILED);
- cost: the nodes its connections may return, as GitHub and Shopify price them: a connection costs its page
  size times the page sizes of the connections around it, summed over the operation that runs. It is priced
  with the request's variables after coercion (defaults included), so a variable runs as what it costs
  (QUERY_TOO_COMPLEX). A `first` outside 0..100 is BAD_USER_INPUT before anything is priced.

Every refusal names its limit and value, in the message and in `extensions` (`limit`, `max`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)

from .connections import DEFAULT_PAGE_SIZE
from .internals import ValidationAbortedError, VariableValues, get_variable_values

CONNECTION_FIELDS = frozenset(
    {"ledger", "creditLots", "invitationsSent", "invitationsReceived", "connections", "companies"}
)
VALIDATION_ERRORS_MAX = 100
PARSER_NESTING_MAX = 200  # graphql-core's parser refuses a document nested deeper (MAX_NESTING_DEPTH)
# Counts saturate here: past any limit, the exact size of a bomb does not matter.
_SATURATED = 10**15


def _cap(value: int) -> int:
    return value if value < _SATURATED else _SATURATED


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set weighs: fields and aliases (fragments expanded), depth, and cost per unit of the
    page sizes around it."""

    fields: int = 0
    aliases: int = 0
    depth: int = 0
    cost: int = 0


PageSize = Callable[[FieldNode], int]


def _one_page(field: FieldNode) -> int:
    return 1


class _Measurer:
    """One walk of a document with a memo per fragment; fragments are measured in dependency order, so the
    walk never recurses along a chain of spreads."""

    def __init__(self, document: DocumentNode, page_size: PageSize) -> None:
        self.page_size = page_size
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, Measure] = {}
        for name in self._dependency_order():
            self.memo[name] = self.selection_set(self.fragments[name].selection_set)

    def _dependency_order(self) -> list[str]:
        """Fragments, each after the fragments it spreads; a cycle (a validation error) is cut where found."""
        order: list[str] = []
        state: dict[str, bool] = {}  # False: in progress, True: done
        for root in self.fragments:
            if root in state:
                continue
            stack: list[tuple[str, Iterator[str]]] = [(root, self._spreads(root))]
            state[root] = False
            while stack:
                name, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    state[name] = True
                    order.append(name)
                elif child in self.fragments and child not in state:
                    state[child] = False
                    stack.append((child, self._spreads(child)))
        return order

    def _spreads(self, name: str) -> Iterator[str]:
        stack = [self.fragments[name].selection_set]
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FragmentSpreadNode):
                    yield selection.name.value
                elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                    stack.append(selection.selection_set)

    def selection_set(self, selection_set: SelectionSetNode | None) -> Measure:
        fields = aliases = depth = cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                fields += 1 + inner.fields
                aliases += (selection.alias is not None) + inner.aliases
                if selection.selection_set is not None and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
                if selection.name.value in CONNECTION_FIELDS:
                    first = max(self.page_size(selection), 0)
                    cost += first + max(first, 1) * inner.cost
                else:
                    cost += inner.cost
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                fields, aliases, cost = fields + inner.fields, aliases + inner.aliases, cost + inner.cost
                depth = max(depth, inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.memo.get(selection.name.value, Measure())  # unknown or cyclic: validation says so
                fields, aliases, cost = fields + inner.fields, aliases + inner.aliases, cost + inner.cost
                depth = max(depth, inner.depth)
        return Measure(_cap(fields), _cap(aliases), depth, _cap(cost))


def measure(document: DocumentNode, operation: OperationDefinitionNode | None = None,
            page_size: PageSize = _one_page) -> Measure:
    """The document's measure: of `operation`, or the largest of each over every operation."""
    measurer = _Measurer(document, page_size)
    operations = [operation] if operation is not None else [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    parts = [measurer.selection_set(op.selection_set) for op in operations]
    return Measure(*(max((getattr(p, name) for p in parts), default=0)
                     for name in ("fields", "aliases", "depth", "cost")))


def page_sizes(variables: Mapping[str, Any]) -> PageSize:
    """The `first` of a connection field: its literal or its (coerced) variable; absent or null: the default."""

    def page_size(field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                return given if isinstance(given, int) and not isinstance(given, bool) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE

    return page_size


def document_cost(document: DocumentNode, variables: Mapping[str, Any] | None = None,
                  operation_name: str | None = None) -> int:
    """The cost of the operation that runs (or the costliest one) with these (coerced) variables."""
    operation = get_operation_ast(document, operation_name) if operation_name is not None else None
    return measure(document, operation, page_sizes(variables or {})).cost


def _refusal(message: str, code: str, limit: str, maximum: int, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "limit": limit, "max": maximum, **extra})


N = TypeVar("N")
V = TypeVar("V")


class ByIdentity(Generic[N, V]):
    """A bounded memo of `fn(node, *rest)` keyed by the node's identity, the node kept alive so its id stays its
    own. A parsed document is one object per query text while the parse cache holds it; graphql-core's nodes
    hash their whole tree, which an lru_cache would do on every request. `rest` must be the same every call
    (the schema, the rules)."""

    def __init__(self, fn: Callable[..., V], size: int) -> None:
        self.fn = fn
        self.size = size
        self.misses = 0
        self._memo: dict[int, tuple[N, V]] = {}

    def __call__(self, node: N, *rest: Any) -> V:
        kept = self._memo.get(id(node))
        if kept is not None and kept[0] is node:
            return kept[1]
        self.misses += 1
        value = self.fn(node, *rest)
        if len(self._memo) >= self.size:
            self._memo.pop(next(iter(self._memo)))  # the oldest first out
        self._memo[id(node)] = (node, value)
        return value


class DocumentPolicy:
    """One schema's document handling: bounded caches of parsed and checked documents, and the limits.

    `check` runs the linear limits first, then graphql-core's validation (bounded by its own budgets, whose
    refusals are reworded to name them); `cost_error` prices the operation that runs with its coerced variables.
    """

    def __init__(self, *, max_tokens: int, max_depth: int, max_aliases: int, max_cost: int, cache_size: int,
                 max_fields: int = 2000, page_size_max: int = 100, introspection: bool = True) -> None:
        self.max_tokens = max_tokens
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_fields = max_fields
        self.max_cost = max_cost
        self.page_size_max = page_size_max
        self.introspection = introspection
        self._introspects: ByIdentity[DocumentNode, bool] = ByIdentity(_introspects, cache_size)
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        # validate(document, schema, rules): keyed by the document
        self.validate: ByIdentity[DocumentNode, list[GraphQLError]] = ByIdentity(
            lambda document, schema, rules: self._validate(schema, document, rules), cache_size)
        self.pinned: dict[str, DocumentNode] = {}
        self.cache_size = cache_size
        self._fixed_costs: dict[int, tuple[OperationDefinitionNode, GraphQLError | None]] = {}

    def introspection_error(self, document: DocumentNode, is_admin: bool) -> GraphQLError | None:
        """With introspection switched off, a document that asks for `__schema` or `__type` runs for admins only
        (`__typename` stays open: clients' caches need it)."""
        if self.introspection or is_admin or not self._introspects(document):
            return None
        return GraphQLError("Introspection is switched off on this server (INVITE_CREDITS_INTROSPECTION=0); an "
                            "admin token may still introspect.", extensions={"code": "GRAPHQL_VALIDATION_FAILED"})

    @property
    def trusted_only(self) -> bool:
        """A manifest of trusted documents was given: nothing else runs."""
        return bool(self.pinned)

    def pin(self, schema: GraphQLSchema, query: str) -> None:
        """Parse and validate a trusted document now, once; requests for it skip both. Raises ValueError when it
        does not fit the schema or the limits."""
        try:
            document = self._parse(query)
        except GraphQLError as exc:
            raise ValueError(f"a trusted document does not parse: {exc.message}") from None
        errors = self._validate(schema, document, tuple(specified_rules))
        if errors:
            raise ValueError(f"a trusted document is not valid against the schema: {errors[0].message}")
        self.pinned[query] = document

    def _parse(self, query: str) -> DocumentNode:
        try:
            return parse(query, max_tokens=self.max_tokens)
        except GraphQLSyntaxError as error:
            # graphql-core's own limits say "Parsing aborted."; the refusal names the limit and its value.
            if "tokens" in error.message and "aborted" in error.message:
                raise GraphQLError(f"The document has more than {self.max_tokens} tokens (the limit).",
                                   source=error.source, positions=error.positions, extensions={
                                       "code": "GRAPHQL_PARSE_FAILED", "limit": "tokens", "max": self.max_tokens},
                                   ) from None
            if "nested too deeply" in error.message:
                raise GraphQLError(f"The document nests more than {PARSER_NESTING_MAX} levels (the parser's limit).",
                                   source=error.source, positions=error.positions, extensions={
                                       "code": "GRAPHQL_PARSE_FAILED", "limit": "nesting", "max": PARSER_NESTING_MAX},
                                   ) from None
            raise

    def _validate(self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]) -> list[GraphQLError]:
        too_large = self.shape_error(document)
        if too_large is not None:
            return [too_large]
        errors = validate(schema, document, rules, max_errors=VALIDATION_ERRORS_MAX)
        return [self._reworded(error) if isinstance(error, ValidationAbortedError) else error for error in errors]

    def shape_error(self, document: DocumentNode) -> GraphQLError | None:
        """The first limit the document's shape breaks, fields first (a fragment bomb is too complex, whatever
        else it breaks), then depth, then aliases."""
        shape = measure(document)
        if shape.fields > self.max_fields:
            return _refusal(f"The document selects {shape.fields} fields once its fragments are expanded, over the "
                            f"limit of {self.max_fields}.", "QUERY_TOO_COMPLEX", "fields", self.max_fields)
        if shape.depth > self.max_depth:
            return _refusal(f"The document nests {shape.depth} levels deep, over the limit of {self.max_depth}.",
                            "GRAPHQL_VALIDATION_FAILED", "depth", self.max_depth)
        if shape.aliases > self.max_aliases:
            return _refusal(f"The document uses {shape.aliases} aliases, over the limit of {self.max_aliases}.",
                            "GRAPHQL_VALIDATION_FAILED", "aliases", self.max_aliases)
        return None

    @staticmethod
    def _reworded(error: ValidationAbortedError) -> GraphQLError:
        if error.message.startswith("Too many validation errors"):
            return _refusal(f"Validation stopped at {VALIDATION_ERRORS_MAX} errors (the limit); the errors before "
                            "this one are listed.", "GRAPHQL_VALIDATION_FAILED", "validationErrors",
                            VALIDATION_ERRORS_MAX)
        # graphql-core's work budgets: comparing fields that may merge (500,000), and walking shared fragments
        # (50,000); either is spent only by a document far larger than a client sends.
        return _refusal("The document is too complex to validate: it spent the validator's budget of work (field "
                        "comparisons or fragment spreads). Select fewer repeated fields or fragments.",
                        "QUERY_TOO_COMPLEX", "validationWork", 500_000)

    def cost_error(self, document: DocumentNode, operation: OperationDefinitionNode,
                   variables: Mapping[str, Any]) -> GraphQLError | None:
        """BAD_USER_INPUT for a `first` outside 0..page_size_max (a page of a million is a bad argument, not an
        expensive query), else QUERY_TOO_COMPLEX over `max_cost`; `variables` are the coerced ones. An operation
        whose page sizes take no variable costs the same every time: it is priced once (the hot documents)."""
        fixed = self._fixed_costs.get(id(operation))
        if fixed is not None and fixed[0] is operation:
            return fixed[1]
        uses_variables = False
        sizes = page_sizes(variables)
        bad: list[FieldNode] = []

        def checked(field: FieldNode) -> int:
            nonlocal uses_variables
            uses_variables = uses_variables or any(isinstance(a.value, VariableNode) for a in field.arguments or ())
            first = sizes(field)
            if not 0 <= first <= self.page_size_max:
                bad.append(field)
            return first

        cost = measure(document, operation, checked).cost
        error = self._cost_error(cost, bad)
        if not uses_variables:
            if len(self._fixed_costs) >= self.cache_size * 4:
                self._fixed_costs.clear()
            self._fixed_costs[id(operation)] = (operation, error)  # the operation kept alive: its id stays its own
        return error

    def _cost_error(self, cost: int, bad: list[FieldNode]) -> GraphQLError | None:
        if bad:
            return GraphQLError(f"first must be between 0 and {self.page_size_max}.", nodes=bad[:1],
                                extensions={"code": "BAD_USER_INPUT"})
        if cost <= self.max_cost:
            return None
        return _refusal(f"Query cost {cost} is over the limit of {self.max_cost} nodes: ask for smaller pages.",
                        "QUERY_TOO_COMPLEX", "cost", self.max_cost, cost=cost, maxCost=self.max_cost)


def _introspects(document: DocumentNode) -> bool:
    """Whether any selection of the document (fragments included) is `__schema` or `__type`."""
    stack = [d.selection_set for d in document.definitions
             if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode) and selection.name.value in ("__schema", "__type"):
                return True
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                stack.append(selection.selection_set)
    return False


def coerced_variables(schema: GraphQLSchema, operation: OperationDefinitionNode,
                      variables: Mapping[str, Any] | None) -> VariableValues | list[GraphQLError]:
    """The operation's variables as they will run (types coerced, defaults filled: `.coerced`), or the coercion's
    errors."""
    return get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}),
                               max_errors=VALIDATION_ERRORS_MAX)
