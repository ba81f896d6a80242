"""The simulated hospital: the `hospmon demo` launcher, every simulated system, and the private servers
(PostgreSQL, MariaDB, snmpd, Prometheus, Alertmanager) that the demo, the tests and the benches start."""
