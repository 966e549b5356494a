"""Database: async SQLAlchemy engine and sessions, the declarative base, Alembic migrations."""
