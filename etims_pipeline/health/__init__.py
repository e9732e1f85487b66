"""The health service behind `etims-pipeline serve`: liveness, readiness of every dependency, metrics scrape."""
