"""The simulated interface engine: Mirth Connect's REST API and a plain JSON status page (``engine``)."""
