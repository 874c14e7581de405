"""Alembic migrations of the application database (applied by `core.db.migrate.upgrade`)."""
