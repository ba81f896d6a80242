"""Who made a device and what it is, from its sysObjectID: the shipped enterprise-number table.

vendors = load_vendors()
vendors.identify("1.3.6.1.4.1.2011.2.23.96")   # Identity(vendor="Huawei", model="", kind="switch")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from exporters.network.config import OidText
from hospmon.config import StrictModel, load
from hospmon.inventory.schema import Kind

ENTERPRISES = Path(__file__).parent / "enterprises.yml"
_ENTERPRISE_PREFIX = (1, 3, 6, 1, 4, 1)


class Enterprise(StrictModel):
    """A vendor registered at IANA under 1.3.6.1.4.1.N."""

    vendor: str = Field(min_length=1)
    kind: Kind


class Product(StrictModel):
    """A model registered under a vendor's sysObjectID."""

    model: str = Field(min_length=1)
    kind: Kind | None = None


class VendorTable(StrictModel):
    """The shape of ``enterprises.yml`` and of a site's own table."""

    enterprises: dict[int, Enterprise] = Field(default_factory=dict)
    products: dict[OidText, Product] = Field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """What a sysObjectID says about a device; empty strings where the table does not know."""

    vendor: str
    model: str
    kind: str


@dataclass(frozen=True)
class Vendors:
    """The enterprise and product tables, merged: a site's entries over the shipped ones."""

    table: VendorTable

    def identify(self, sys_object_id: str) -> Identity:
        """Return the vendor, model and likely CI kind of a sysObjectID."""
        parts = tuple(int(p) for p in sys_object_id.strip(".").split(".") if p.isdigit())
        product = self.table.products.get(sys_object_id.strip("."))
        enterprise = None
        if len(parts) > len(_ENTERPRISE_PREFIX) and parts[:6] == _ENTERPRISE_PREFIX:
            enterprise = self.table.enterprises.get(parts[6])
        kind = (product.kind if product and product.kind else None) or (
            enterprise.kind if enterprise else None
        )
        return Identity(
            vendor=enterprise.vendor if enterprise else "",
            model=product.model if product else "",
            kind=kind.value if kind else "",
        )


def load_vendors(extra: Path | None = None) -> Vendors:
    """Load the shipped table and, when given, a site's table whose entries win."""
    table = load(VendorTable, ENTERPRISES)
    if extra is not None:
        site = load(VendorTable, extra)
        table = VendorTable(
            enterprises={**table.enterprises, **site.enterprises},
            products={**table.products, **site.products},
        )
    return Vendors(table)
