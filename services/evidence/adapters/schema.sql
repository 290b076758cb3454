-- The evidence service's schema. Applied by an administrator (objektif migrate); the service's own role may only
-- append to the store and move its counters and cursors: accepted events are never updated or deleted.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objektif_evidence') THEN
    CREATE ROLE objektif_evidence LOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS evidence;
GRANT USAGE ON SCHEMA evidence TO objektif_evidence;

-- The store's partitions (ADR 0013, no serial point): each stream (accepted events, rejections) is split into
-- PARTITIONS partitions by the key's murmur2 hash, as Kafka's default partitioner splits a topic
-- (chassis/partitions.py, whose PARTITIONS must equal it). A partition's row holds its gap-free
-- counter `n` and its last `seq`; a batch locks only the rows of the partitions it writes, so instances that own
-- different partitions commit in parallel.
CREATE TABLE IF NOT EXISTS evidence.partitions (
  stream text NOT NULL, part smallint NOT NULL, n bigint NOT NULL, seq bigint NOT NULL, PRIMARY KEY (stream, part)
);

-- Accepted events: `pos` is the envelope's `sequence` (unique, increasing within a partition, in time order
-- across them), (part, n) the gap-free position readers tail; `value` is the exact published bytes.
CREATE TABLE IF NOT EXISTS evidence.events (
  pos         bigint PRIMARY KEY,
  part        smallint NOT NULL,
  n           bigint NOT NULL,
  event_id    uuid NOT NULL UNIQUE,
  type        text NOT NULL,
  source      text NOT NULL,
  subject     text NOT NULL,
  period      text NOT NULL,
  key         text NOT NULL,
  value       bytea NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS events_subject ON evidence.events (subject, period);

-- Rejected submissions, in their own gap-free order, with the reasons and the original bytes inside `value`.
CREATE TABLE IF NOT EXISTS evidence.rejections (
  pos                 bigint PRIMARY KEY,
  part                smallint NOT NULL,
  n                   bigint NOT NULL,
  event_id            uuid NOT NULL UNIQUE,
  submission_event_id uuid,
  codes               text[] NOT NULL,
  key                 text NOT NULL,
  value               bytea NOT NULL,
  recorded_at         timestamptz NOT NULL
);

-- A redelivered submission whose bytes were refused before is answered by that refusal (adapters/store.py).
CREATE INDEX IF NOT EXISTS rejections_submission ON evidence.rejections (submission_event_id);

-- Each relay's cursor per partition: the last `n` it published.
CREATE TABLE IF NOT EXISTS evidence.relay_cursors (
  name text NOT NULL, part smallint NOT NULL, pos bigint NOT NULL, PRIMARY KEY (name, part)
);

CREATE TABLE IF NOT EXISTS evidence.consumer_positions (
  topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (topic, partition)
);

-- The persons' data keys (UU PDP, ADR 0010): the private half wrapped by the operator's key-encryption key, and
-- overwritten with NULL when a `personal_data.erased` event is stored (adapters/pdp_keys.py). One current key per NIP.
CREATE TABLE IF NOT EXISTS evidence.pdp_keys (
  kid             text PRIMARY KEY,
  nip             text NOT NULL,
  public_key      bytea NOT NULL,
  wrapped_private bytea,
  created_at      timestamptz NOT NULL DEFAULT now(),
  destroyed_at    timestamptz,
  CHECK ((wrapped_private IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS pdp_keys_current ON evidence.pdp_keys (nip) WHERE destroyed_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON evidence.pdp_keys TO objektif_evidence;

GRANT SELECT, INSERT ON evidence.events, evidence.rejections TO objektif_evidence;
GRANT SELECT, UPDATE ON evidence.partitions, evidence.relay_cursors TO objektif_evidence;
GRANT SELECT, INSERT, UPDATE ON evidence.consumer_positions TO objektif_evidence;

CREATE OR REPLACE FUNCTION evidence.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence.% is append-only: % refused (corrections are supersession events)', TG_TABLE_NAME, TG_OP;
END $$;
DROP TRIGGER IF EXISTS events_append_only ON evidence.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON evidence.events
  FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();
DROP TRIGGER IF EXISTS rejections_append_only ON evidence.rejections;
CREATE TRIGGER rejections_append_only BEFORE UPDATE OR DELETE ON evidence.rejections
  FOR EACH ROW EXECUTE FUNCTION evidence.refuse_change();

-- A store written before ADR 0013 had one gap-free counter per stream (`evidence.counters`) and one cursor per
-- relay. Its rows become partition 0's history: part 0, n = pos (their order is kept, and every later event of any
-- partition has a higher `seq`); partition 0's counter continues from the old counter, the old relay cursors
-- become partition 0's. Run once, by the administrator (the rows' new columns need the append-only trigger off).
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'evidence' AND table_name = 'events'
             AND column_name = 'pos') AND NOT EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'evidence' AND table_name = 'events' AND column_name = 'n') THEN
    ALTER TABLE evidence.events DISABLE TRIGGER events_append_only;
    ALTER TABLE evidence.rejections DISABLE TRIGGER rejections_append_only;
    ALTER TABLE evidence.events ADD COLUMN part smallint NOT NULL DEFAULT 0, ADD COLUMN n bigint;
    ALTER TABLE evidence.rejections ADD COLUMN part smallint NOT NULL DEFAULT 0, ADD COLUMN n bigint;
    UPDATE evidence.events SET n = pos;
    UPDATE evidence.rejections SET n = pos;
    ALTER TABLE evidence.events ALTER COLUMN part DROP DEFAULT, ALTER COLUMN n SET NOT NULL;
    ALTER TABLE evidence.rejections ALTER COLUMN part DROP DEFAULT, ALTER COLUMN n SET NOT NULL;
    ALTER TABLE evidence.events ENABLE TRIGGER events_append_only;
    ALTER TABLE evidence.rejections ENABLE TRIGGER rejections_append_only;
  END IF;
  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'evidence' AND table_name = 'counters') THEN
    INSERT INTO evidence.partitions (stream, part, n, seq)
      SELECT name, 0, value, value FROM evidence.counters WHERE name IN ('events', 'rejections')
      ON CONFLICT DO NOTHING;
    DROP TABLE evidence.counters;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'evidence'
                 AND table_name = 'relay_cursors' AND column_name = 'part') THEN
    ALTER TABLE evidence.relay_cursors ADD COLUMN part smallint NOT NULL DEFAULT 0;
    ALTER TABLE evidence.relay_cursors ALTER COLUMN part DROP DEFAULT;
    ALTER TABLE evidence.relay_cursors DROP CONSTRAINT relay_cursors_pkey;
    ALTER TABLE evidence.relay_cursors ADD PRIMARY KEY (name, part);
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS events_position ON evidence.events (part, n);
CREATE UNIQUE INDEX IF NOT EXISTS rejections_position ON evidence.rejections (part, n);
INSERT INTO evidence.partitions (stream, part, n, seq)
  SELECT stream, part, 0, 0 FROM unnest(ARRAY['events', 'rejections']) AS stream, generate_series(0, 11) AS part
  ON CONFLICT DO NOTHING;
INSERT INTO evidence.relay_cursors (name, part, pos)
  SELECT name, part, 0 FROM unnest(ARRAY['evidence', 'rejections']) AS name, generate_series(0, 11) AS part
  ON CONFLICT DO NOTHING;
