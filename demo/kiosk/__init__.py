"""The simulated self-service kiosk's status page (``status``)."""
