-- The evidence schema as it was before ADR 0013 (commit 249d0c7), for the migration test.
-- The evidence service's schema. Applied by an administrator (objektif migrate); the service's own role may only
-- append to the store and move its counters and cursors: accepted events are never updated or deleted.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objektif_evidence') THEN
    CREATE ROLE objektif_evidence LOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS evidence;
GRANT USAGE ON SCHEMA evidence TO objektif_evidence;

CREATE TABLE IF NOT EXISTS evidence.counters (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO evidence.counters VALUES ('events', 0), ('rejections', 0) ON CONFLICT DO NOTHING;

-- Accepted events, in gap-free sequence (pos = the envelope's `sequence`); `value` is the exact published bytes.
CREATE TABLE IF NOT EXISTS evidence.events (
  pos         bigint PRIMARY KEY,
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
  event_id            uuid NOT NULL UNIQUE,
  submission_event_id uuid,
  codes               text[] NOT NULL,
  key                 text NOT NULL,
  value               bytea NOT NULL,
  recorded_at         timestamptz NOT NULL
);

-- A redelivered submission whose bytes were refused before is answered by that refusal (adapters/store.py).
CREATE INDEX IF NOT EXISTS rejections_submission ON evidence.rejections (submission_event_id);

CREATE TABLE IF NOT EXISTS evidence.relay_cursors (name text PRIMARY KEY, pos bigint NOT NULL);
INSERT INTO evidence.relay_cursors VALUES ('evidence', 0), ('rejections', 0) ON CONFLICT DO NOTHING;

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
GRANT SELECT, UPDATE ON evidence.counters, evidence.relay_cursors TO objektif_evidence;
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
