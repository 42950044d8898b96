"""GraphQL: Strawberry types, inputs and thin resolvers over the service."""
