"""The simulated EMR: a FHIR R4 endpoint with synthetic resources (``fhir_server``)."""
