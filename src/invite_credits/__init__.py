"""invite-credits: a GraphQL service that runs a professional network's invitation credits."""

__version__ = "0.1.0"
