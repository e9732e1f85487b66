"""Submitting invoices to eTIMS: the guard, the outbox state machine, timeout-safe retries, the run report.

No Dagster here: the asset is a thin wrapper around `SubmissionEngine.submit`.
"""
