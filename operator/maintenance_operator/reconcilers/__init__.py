"""Reconcilers: one per concern, each taking its collaborators as small Protocol ports so that it can be
driven by kopf handlers in production and by fakes in unit tests."""
