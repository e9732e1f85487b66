"""Observability: Prometheus metrics derived from the attempt log, and the structured JSON logs."""
