"""Profile store: ports (Protocols) and adapters (SQLAlchemy, memory); the only sqlalchemy user."""
