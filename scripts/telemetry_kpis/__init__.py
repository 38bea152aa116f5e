"""telemetry-kpis: Meltano CLI telemetry to KPIs and OKR key results."""

__version__ = "0.1.0"
