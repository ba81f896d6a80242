"""hospmon: Prometheus-native monitoring and alert routing for hospital IT."""

__version__ = "0.1.0"
