"""Alertmanager intake: the pure webhook parser and the service that stores what it finds."""
