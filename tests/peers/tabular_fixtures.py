"""Fixtures for the real api_tabular peers (Tabular + Metrics apps over PostgreSQL)."""
