"""SQLite: migrations, named queries, one writer and readers beside it."""
