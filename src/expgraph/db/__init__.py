"""Database kernel: engine and sessions, shared column types, dialect helpers.

Every difference between SQLite and PostgreSQL lives in this package.
"""
