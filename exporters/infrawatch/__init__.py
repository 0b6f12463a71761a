"""infrawatch: Prometheus exporters and a monitoring mixin."""

__version__ = "0.1.0"
