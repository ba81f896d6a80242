"""The reasons a probe may fail with: a contract between the exporters, the rules and the router.

Exporters pick from these (`hospmon_probe_failure{reason}`), so rules, dashboards and the router's policy
(`reachability_reasons`, `reachability_failures`) can rely on them.

The shipped probe alerts (CIProbeFailed, ClinicalWebDown, DatabaseDown, the PACS and LIS probe alerts)
carry `failure`, not `reason`: `network` for the reasons in NETWORK_REASONS, else the reason itself. A
label is part of an alert's identity, so a dead switch whose probe flips between timeout and unreachable
would restart the rule's `for:` at each flip and might never fire; folded into `network`, it stays one
alert while `auth` stays a distinct one.
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

NETWORK_REASONS = frozenset({"timeout", "unreachable"})
"""The reasons the rules fold into `failure="network"` (keep in step with their label_replace)."""

FAILURES = frozenset({"network"}) | (REASONS - NETWORK_REASONS)
"""The values of a probe alert's `failure` label."""
