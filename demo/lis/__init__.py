"""The simulated LIS: its database (``flow``) and its HL7 MLLP interface (``mllp``)."""
