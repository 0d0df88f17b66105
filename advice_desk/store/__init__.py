"""The database: engine, tables, migrations. Everything that touches SQL sits on top of this."""
