"""The eTIMS (OSCU) protocol: PIN rules, code tables, result codes, tax arithmetic, payloads, the client.

Nothing in this package imports Dagster, so the protocol is testable in milliseconds.
"""
