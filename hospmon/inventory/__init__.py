"""The inventory (CMDB): one model shared by the exporters, the rules and the alert router."""

from hospmon.inventory.model import Inventory, load_inventory, warranty_timestamp

__all__ = ["Inventory", "load_inventory", "warranty_timestamp"]
