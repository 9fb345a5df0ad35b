"""Notifications: preferences, in-app notifications, e-mail (immediate and
digests) and signed webhooks, delivered from the kernel's outbox (db/outbox.py)."""
