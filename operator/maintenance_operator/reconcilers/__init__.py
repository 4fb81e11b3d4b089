"""Reconcilers: one analysis or remediation step each, with their I/O behind small Protocol ports."""
