"""The application database: engine, models, repositories and Alembic migrations."""
