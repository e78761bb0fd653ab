"""The SQL store: SQLAlchemy 2 models, repositories behind the service ports, the unit of
work, Alembic migrations, and the demo data."""
