"""The request pipeline (`pipeline.py`): what every GraphQL request goes through, by HTTP or over a WebSocket;
persisted and trusted documents (`persisted.py`), rate limits (`ratelimits.py`), compiled plans for queries
(`plans/`), and the per-operation metrics and log line (`observe.py`)."""

from .pipeline import GraphQLRequest, Pipeline, selected_operation

__all__ = ["GraphQLRequest", "Pipeline", "selected_operation"]
