"""Dagster resources: one `ConfigurableResource` per external system."""
