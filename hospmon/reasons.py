"""The reasons a probe may fail with: a contract between the exporters, the rules and the router.

Exporters pick from these (`hospmon_probe_failure{reason}`), so rules, dashboards and the router's policy
(`reachability_reasons`) can rely on them.
"""

from __future__ import annotations

REASONS = frozenset(
    {
        "timeout",  # the target did not answer before the deadline
        "unreachable",  # no route, DNS failure, connection refused or reset
        "auth",  # wrong community, user, password or certificate
        "bad_response",  # the target answered something we cannot use
        "rejected",  # the target answered and refused (negative ACK, association rejected, HTTP 5xx)
        "check_failed",  # the answer was understood but a configured check did not hold
        "config",  # the module or auth named in the request cannot run (for example a missing secret)
        "error",  # anything else; the exporter log has the detail
    }
)
