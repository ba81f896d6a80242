"""The database exporter and the SQL engine it shares with the HIS and LIS exporters (docs/database.md)."""
