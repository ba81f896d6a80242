"""The simulated HIS: its MariaDB, a clinic day's traffic and the web front end (``simulator``)."""
