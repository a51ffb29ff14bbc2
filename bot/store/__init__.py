"""Profile store: `ports` (Protocols), `sql` and `memory` backends; the only sqlalchemy user."""
