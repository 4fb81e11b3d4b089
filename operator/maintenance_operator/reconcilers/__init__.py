"""Reconcilers: one module per stage, flowing one way (assess -> propose -> remediate), over ports."""
