"""Background work, safe with several replicas: escalations, notifications, fetches, on-call gaps."""
