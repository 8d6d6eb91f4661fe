"""Alembic's script directory for the store: env.py, the revision template and versions/.

Driven by database/migrate.py (``hotline db upgrade``); there is no alembic.ini.
"""
