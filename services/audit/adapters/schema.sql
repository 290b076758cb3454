-- The audit ledger: every event of the evidence, rejection and score topics, once, as a leaf of an RFC 6962 Merkle
-- tree and of a hash chain. The service's role may only INSERT leaves; PostgreSQL itself refuses UPDATE, DELETE and
-- TRUNCATE (triggers), and the tables belong to the administrator, so the service cannot disable the triggers.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objektif_audit') THEN
    CREATE ROLE objektif_audit LOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS audit;
GRANT USAGE ON SCHEMA audit TO objektif_audit;

-- The leaves (ADR 0013): one RFC 6962 tree and one hash chain per partition (`part`, chosen from the subject as
-- Kafka's partitioner would: chassis/partitions.py), `pos` the leaf's index in its partition's tree. `idx` is the
-- leaf's identity and the ledger's order across partitions: unique, increasing within a partition, following the
-- ledger's clock at commit across partitions (chassis.partitions.next_sequences); a ledger written before ADR 0013
-- is partition 0's history, where idx = pos. Each leaf keeps the SHA-256 leaf hash (H(0x00 || bytes)) and its
-- chain hash.
CREATE TABLE IF NOT EXISTS audit.leaves (
  idx        bigint PRIMARY KEY,
  event_id   uuid NOT NULL UNIQUE,
  topic      text NOT NULL,
  type       text NOT NULL,
  subject    text NOT NULL,
  period     text NOT NULL,
  leaf_hash  bytea NOT NULL,
  chain_hash bytea NOT NULL,
  part       smallint NOT NULL DEFAULT 0,
  pos        bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS leaves_subject ON audit.leaves (subject, period, idx);

-- The bytes each leaf commits to, kept apart from the hash so that a lawful erasure (UU PDP) can shred them while
-- every proof stays valid (issue 9). Only erasure, by the administrator, may remove a row.
CREATE TABLE IF NOT EXISTS audit.leaf_data (
  idx  bigint PRIMARY KEY REFERENCES audit.leaves (idx),
  body bytea NOT NULL
);

-- Perfect-subtree nodes of each partition's Merkle tree, written as appends complete them (level 0 = leaf hashes).
CREATE TABLE IF NOT EXISTS audit.nodes (
  part smallint NOT NULL DEFAULT 0, level int NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL,
  PRIMARY KEY (part, level, idx)
);

-- Each partition's tree head after its last append: size, root, the frontier (compact range), the chain head and
-- the last leaf's idx. An append locks only the rows of the partitions it writes.
CREATE TABLE IF NOT EXISTS audit.heads (
  part smallint PRIMARY KEY, size bigint NOT NULL, root bytea NOT NULL, frontier jsonb NOT NULL,
  chain_hash bytea NOT NULL, last_idx bigint NOT NULL
);

-- Signed checkpoints (C2SP signed notes), one series per partition's tree; partition 0's origin is the log's own,
-- so the checkpoints signed before ADR 0013 are its history and stay valid.
CREATE TABLE IF NOT EXISTS audit.checkpoints (
  part smallint NOT NULL DEFAULT 0, size bigint NOT NULL, root bytea NOT NULL, note text NOT NULL,
  issued_at timestamptz NOT NULL, PRIMARY KEY (part, size)
);

-- The checkpoint over every partition (ADR 0013): a signed note whose root is the RFC 6962 root of one leaf per
-- partition, H(0x00 || u16 part || u64 size || root), with the sizes and roots it was made of.
CREATE TABLE IF NOT EXISTS audit.partition_checkpoints (
  n bigint PRIMARY KEY, sizes bigint[] NOT NULL, roots bytea[] NOT NULL, root bytea NOT NULL, note text NOT NULL,
  issued_at timestamptz NOT NULL
);

-- A ledger written before ADR 0013 (one tree, audit.head) becomes partition 0's history: idx = pos, its nodes
-- and checkpoints partition 0's. Nothing is renumbered or re-signed; the append-only triggers are off only for
-- the statement that sets pos.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'audit' AND table_name = 'leaves'
                 AND column_name = 'part') THEN
    ALTER TABLE audit.leaves ADD COLUMN part smallint NOT NULL DEFAULT 0, ADD COLUMN pos bigint;
    ALTER TABLE audit.leaves DISABLE TRIGGER leaves_append_only;
    UPDATE audit.leaves SET pos = idx;
    ALTER TABLE audit.leaves ENABLE TRIGGER leaves_append_only;
    ALTER TABLE audit.leaves ALTER COLUMN pos SET NOT NULL;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'audit' AND table_name = 'nodes'
                 AND column_name = 'part') THEN
    ALTER TABLE audit.nodes ADD COLUMN part smallint NOT NULL DEFAULT 0;
    ALTER TABLE audit.nodes DROP CONSTRAINT nodes_pkey, ADD PRIMARY KEY (part, level, idx);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'audit'
                 AND table_name = 'checkpoints' AND column_name = 'part') THEN
    ALTER TABLE audit.checkpoints ADD COLUMN part smallint NOT NULL DEFAULT 0;
    ALTER TABLE audit.checkpoints DROP CONSTRAINT checkpoints_pkey, ADD PRIMARY KEY (part, size);
  END IF;
  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'audit' AND table_name = 'head') THEN
    INSERT INTO audit.heads (part, size, root, frontier, chain_hash, last_idx)
      SELECT 0, size, root, frontier, chain_hash, greatest(size - 1, 0) FROM audit.head ON CONFLICT DO NOTHING;
    DROP TABLE audit.head;
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS leaves_position ON audit.leaves (part, pos);
INSERT INTO audit.heads (part, size, root, frontier, chain_hash, last_idx)
  SELECT p, 0, sha256(''::bytea), '{"size": 0, "hashes": []}', '\x'::bytea, 0 FROM generate_series(0, 11) AS p
  ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS audit.consumer_positions (
  topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (topic, partition)
);

GRANT SELECT, INSERT ON audit.leaves, audit.leaf_data, audit.nodes, audit.checkpoints, audit.partition_checkpoints
  TO objektif_audit;
GRANT SELECT, UPDATE ON audit.heads TO objektif_audit;
GRANT SELECT, INSERT, UPDATE ON audit.consumer_positions TO objektif_audit;

CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['leaves', 'leaf_data', 'nodes', 'checkpoints', 'partition_checkpoints'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON audit.%I', t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON audit.%I FOR EACH ROW '
                   'EXECUTE FUNCTION audit.refuse_change()', t || '_append_only', t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON audit.%I', t || '_no_truncate', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON audit.%I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION audit.refuse_change()', t || '_no_truncate', t);
  END LOOP;
END $$;

-- Checkpoint verifier keys (issue 9): every key that ever signed a checkpoint, as its C2SP vkey, so that
-- `objektif audit verify` can name the key a note claims. A key found only here is trusted on first use: an
-- auditor passes the key obtained out of band (`--vkey`), never one read from the database being audited.
CREATE TABLE IF NOT EXISTS audit.checkpoint_keys (
  vkey text PRIMARY KEY, name text NOT NULL, registered_at timestamptz NOT NULL
);
GRANT SELECT, INSERT ON audit.checkpoint_keys TO objektif_audit;
DROP TRIGGER IF EXISTS checkpoint_keys_append_only ON audit.checkpoint_keys;
CREATE TRIGGER checkpoint_keys_append_only BEFORE UPDATE OR DELETE ON audit.checkpoint_keys FOR EACH ROW
  EXECUTE FUNCTION audit.refuse_change();
DROP TRIGGER IF EXISTS checkpoint_keys_no_truncate ON audit.checkpoint_keys;
CREATE TRIGGER checkpoint_keys_no_truncate BEFORE TRUNCATE ON audit.checkpoint_keys FOR EACH STATEMENT
  EXECUTE FUNCTION audit.refuse_change();
-- Score events are looked up by employee, period and ledger position (replay, dossier).
CREATE INDEX IF NOT EXISTS leaves_topic_idx ON audit.leaves (topic, idx);


-- A score event (≈ 2.7 kB) is over PostgreSQL's TOAST threshold, so its leaf's bytes are compressed as they are
-- written: with lz4 where the server has it (chassis/schema_prelude.sql).
SELECT pg_temp.prefer_lz4('audit.leaf_data', 'body');
