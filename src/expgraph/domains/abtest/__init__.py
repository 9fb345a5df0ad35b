"""A/B testing: tests that assign units to variants."""
