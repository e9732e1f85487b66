"""Sensors of the code location (the replay-after-verification sensor lands with issue 4)."""
