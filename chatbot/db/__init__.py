"""SQL log: schema, engine, migrations and CRUD."""
