"""expgraph: one GraphQL API over five experiment systems."""

__version__ = "0.1.0"
