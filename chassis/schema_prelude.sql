-- Prepended to every service's schema.sql by chassis.db.schema_sql: helpers for its migrations, in pg_temp so that
-- they last only for the session that applies the schema and are owned by no service.

-- Compress a large column with lz4 instead of the default pglz (less CPU per write; docs/performance.md,
-- "2026-12-07 (night)"), where the server was built with lz4; catalog-only, and nothing is done once set.
CREATE OR REPLACE FUNCTION pg_temp.prefer_lz4(tbl regclass, col name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    IF (SELECT attcompression FROM pg_attribute WHERE attrelid = tbl AND attname = col) <> 'l' THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET COMPRESSION lz4', tbl, col);
    END IF;
  END IF;
END $$;
