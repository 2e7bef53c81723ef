"""The SQLite store: schema, upserts, lifecycle, duplicates, and the queries feeds and digests use."""
