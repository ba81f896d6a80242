"""Notifications: templates, channels through apprise, and the outbox the worker drains."""
