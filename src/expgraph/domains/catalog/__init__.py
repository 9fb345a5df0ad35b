"""Catalog: datasets with versions, examples and signals; tags."""
