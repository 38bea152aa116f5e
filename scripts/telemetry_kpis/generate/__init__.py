"""`kpis generate`: synthetic Meltano CLI telemetry."""
