"""Gating and data association: which report updates which track."""
