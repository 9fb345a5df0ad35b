"""Experiments: the one table for every kind, its GraphQL interface and types."""
