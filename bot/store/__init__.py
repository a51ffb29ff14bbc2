"""Profile store: ports (Protocols) and adapters (SQLAlchemy, in-memory). Only this layer imports sqlalchemy."""
