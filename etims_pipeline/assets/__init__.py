"""Dagster assets, each with the checks that guard it."""
