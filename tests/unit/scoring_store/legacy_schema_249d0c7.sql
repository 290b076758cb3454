-- The scoring schema as it was before ADR 0013 (commit 249d0c7), for the migration test.
-- The scoring service's schema: its own copy of the evidence it folds, the read model, the score outbox and the
-- consumer's tracking (processed event ids and Kafka positions), all written in one transaction per batch.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objektif_scoring') THEN
    CREATE ROLE objektif_scoring LOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS scoring;
GRANT USAGE ON SCHEMA scoring TO objektif_scoring;

CREATE TABLE IF NOT EXISTS scoring.counters (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO scoring.counters VALUES ('scores', 0) ON CONFLICT DO NOTHING;

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

-- The score outbox, in gap-free order.
CREATE TABLE IF NOT EXISTS scoring.outbox (
  pos      bigint PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  key      text NOT NULL,
  value    bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS scoring.relay_cursors (name text PRIMARY KEY, pos bigint NOT NULL);
INSERT INTO scoring.relay_cursors VALUES ('scores', 0) ON CONFLICT DO NOTHING;

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
GRANT SELECT, UPDATE ON scoring.counters, scoring.relay_cursors TO objektif_scoring;
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
