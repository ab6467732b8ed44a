"""The heritage database in PostGIS: connection, schema (models, migrations),
roles and the atomic publish. See README, "Publishing to PostGIS"."""
