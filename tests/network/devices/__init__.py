"""Recordings built from vendors' MIB structure (APC, Eaton, printers, firewalls, FC switches, storage),
each served by snmpsimd under its name as community. `BUILT` maps a name to the function writing it."""

from __future__ import annotations

from collections.abc import Callable

BUILT: dict[str, Callable[[], str]] = {}
