"""The bulletin knowledge store: models, ingestion, checks and queries."""
