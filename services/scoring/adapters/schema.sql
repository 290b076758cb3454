-- The scoring service's schema: its own copy of the evidence it folds, the read model, the score outbox and the
-- consumer's tracking (processed event ids and Kafka positions), all written in one transaction per batch.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objektif_scoring') THEN
    CREATE ROLE objektif_scoring LOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS scoring;
GRANT USAGE ON SCHEMA scoring TO objektif_scoring;

-- The score outbox's partitions (ADR 0013, no serial point; chassis/partitions.py, whose PARTITIONS must equal the
-- count below): one counter row per partition of the NIP, so scoring instances that own different partitions
-- commit in parallel.
CREATE TABLE IF NOT EXISTS scoring.partitions (
  stream text NOT NULL, part smallint NOT NULL, n bigint NOT NULL, seq bigint NOT NULL, PRIMARY KEY (stream, part)
);

-- Every evidence event seen, once (event_id), ordered by the evidence service's sequence.
CREATE TABLE IF NOT EXISTS scoring.events (
  sequence bigint NOT NULL,
  event_id uuid PRIMARY KEY,
  type     text NOT NULL,
  subject  text NOT NULL,
  period   text NOT NULL,
  body     jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS events_stream ON scoring.events (subject, period, sequence);
-- Every batch looks up the unit-level context events (a few per unit): by index, not by a scan of the log.
CREATE INDEX IF NOT EXISTS events_type ON scoring.events (type, sequence);
-- How many events each subject's stream holds, kept in the transaction that adds them: what the projector checks
-- a cached stream against (stream_cache.py), one row per subject instead of counting its events (a count over
-- 20 subjects' index entries and heap rows cost 4.6 ms a batch at 100k events). Filled from the events when it
-- is created on an existing schema.
DO $$ BEGIN
  IF to_regclass('scoring.streams') IS NULL THEN
    CREATE TABLE scoring.streams (subject text PRIMARY KEY, events bigint NOT NULL);
    INSERT INTO scoring.streams SELECT subject, count(*) FROM scoring.events GROUP BY subject;
  END IF;
END $$;

-- The read model: one appraisal per employee and period, with its explanation and basis.
CREATE TABLE IF NOT EXISTS scoring.appraisals (
  nip        text NOT NULL,
  period     text NOT NULL,
  unit_id    text,
  result     jsonb NOT NULL,
  basis_hash text NOT NULL,
  score_event_id uuid NOT NULL,
  upto_sequence bigint NOT NULL,
  PRIMARY KEY (nip, period)
);

-- The score outbox: (part, n) in order within each partition, `pos` unique across them.
CREATE TABLE IF NOT EXISTS scoring.outbox (
  pos      bigint PRIMARY KEY,
  part     smallint NOT NULL,
  n        bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  key      text NOT NULL,
  value    bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS scoring.relay_cursors (
  name text NOT NULL, part smallint NOT NULL, pos bigint NOT NULL, PRIMARY KEY (name, part)
);
-- An outbox written before ADR 0013 (one gap-free counter, `scoring.counters`) becomes partition 0's history
-- (n = pos); partition 0 continues its counter, every partition's `seq` starts past its positions, and the old
-- relay cursor becomes partition 0's.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'scoring' AND table_name = 'outbox'
                 AND column_name = 'n') THEN
    ALTER TABLE scoring.outbox ADD COLUMN part smallint NOT NULL DEFAULT 0, ADD COLUMN n bigint;
    UPDATE scoring.outbox SET n = pos;
    ALTER TABLE scoring.outbox ALTER COLUMN part DROP DEFAULT, ALTER COLUMN n SET NOT NULL;
  END IF;
  IF to_regclass('scoring.counters') IS NOT NULL THEN
    INSERT INTO scoring.partitions (stream, part, n, seq)
      SELECT 'scores', part, CASE WHEN part = 0 THEN value ELSE 0 END, value
      FROM scoring.counters, generate_series(0, 11) AS part WHERE name = 'scores'
      ON CONFLICT DO NOTHING;
    DROP TABLE scoring.counters;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'scoring'
                 AND table_name = 'relay_cursors' AND column_name = 'part') THEN
    ALTER TABLE scoring.relay_cursors ADD COLUMN part smallint NOT NULL DEFAULT 0;
    ALTER TABLE scoring.relay_cursors ALTER COLUMN part DROP DEFAULT;
    ALTER TABLE scoring.relay_cursors DROP CONSTRAINT relay_cursors_pkey;
    ALTER TABLE scoring.relay_cursors ADD PRIMARY KEY (name, part);
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS outbox_position ON scoring.outbox (part, n);
INSERT INTO scoring.partitions (stream, part, n, seq)
  SELECT 'scores', part, 0, 0 FROM generate_series(0, 11) AS part ON CONFLICT DO NOTHING;
INSERT INTO scoring.relay_cursors (name, part, pos)
  SELECT 'scores', part, 0 FROM generate_series(0, 11) AS part ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS scoring.consumer_positions (
  topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (topic, partition)
);
-- Records on the evidence topic that are not valid events (they should never exist): kept with the reason.
CREATE TABLE IF NOT EXISTS scoring.poison (
  topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL, reason text NOT NULL, value bytea NOT NULL,
  PRIMARY KEY (topic, partition, "offset")
);

GRANT SELECT, INSERT ON scoring.events, scoring.outbox TO objektif_scoring;
GRANT SELECT, INSERT, UPDATE ON scoring.appraisals, scoring.consumer_positions, scoring.streams TO objektif_scoring;
GRANT SELECT, UPDATE ON scoring.partitions, scoring.relay_cursors TO objektif_scoring;
GRANT SELECT, INSERT ON scoring.poison TO objektif_scoring;

-- People in the loop (ADR 0007, services/scoring/adapters/people_store.py). Enrolment codes: only their SHA-256
-- is kept; a code is single use (used_at, with the key id it registered) and expires.
CREATE TABLE IF NOT EXISTS scoring.enrolments (
  code_sha256 bytea PRIMARY KEY,
  nip         text NOT NULL,
  grants      text[] NOT NULL DEFAULT '{}',
  issued_by   text NOT NULL,
  issued_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  key_id      text
);
CREATE INDEX IF NOT EXISTS enrolments_nip ON scoring.enrolments (nip, issued_at);
-- Sign-in challenges are stateless (an HMAC); the nonce of one that was used is kept until it expires, so that a
-- replayed challenge is refused by every instance (the primary key).
CREATE TABLE IF NOT EXISTS scoring.signin_nonces (nonce text PRIMARY KEY, expires_at timestamptz NOT NULL);
-- A sign-in asks whom the person appraises: by index, not by a scan of every assignment.
CREATE INDEX IF NOT EXISTS events_pejabat_penilai ON scoring.events ((body->'payload'->>'pejabat_penilai_nip'))
  WHERE type = 'employee.assigned';
GRANT SELECT, INSERT, UPDATE ON scoring.enrolments TO objektif_scoring;
GRANT SELECT, INSERT, DELETE ON scoring.signin_nonces TO objektif_scoring;

-- A score event's JSON (≈ 2.7 kB) is over PostgreSQL's TOAST threshold, so each appraisal row and outbox row is
-- compressed as it is written: with lz4 where the server has it (chassis/schema_prelude.sql).
SELECT pg_temp.prefer_lz4('scoring.appraisals', 'result');
SELECT pg_temp.prefer_lz4('scoring.outbox', 'value');

-- Every batch rewrites the appraisals and stream counts it touches. With room left on each page the new version
-- goes beside the old one (a HOT update: no new index entry, and the page is pruned as it fills, vacuum or not);
-- at the default fill factor of 100 most updates moved to another page (docs/performance.md, "2026-12-07
-- (night)"). Affects the pages written from now on; skipped once set.
DO $$ BEGIN
  IF NOT coalesce((SELECT reloptions FROM pg_class WHERE oid = 'scoring.appraisals'::regclass), '{}')
         @> '{fillfactor=50}' THEN
    ALTER TABLE scoring.appraisals SET (fillfactor = 50);
  END IF;
  IF NOT coalesce((SELECT reloptions FROM pg_class WHERE oid = 'scoring.streams'::regclass), '{}')
         @> '{fillfactor=50}' THEN
    ALTER TABLE scoring.streams SET (fillfactor = 50);
  END IF;
END $$;
