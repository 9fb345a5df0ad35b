"""Accounts: users (and, later, keys, sessions and logs)."""
