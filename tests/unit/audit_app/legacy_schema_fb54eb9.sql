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

-- The leaves: index, which event, the SHA-256 leaf hash (RFC 6962: H(0x00 || bytes)) and the chain hash.
CREATE TABLE IF NOT EXISTS audit.leaves (
  idx        bigint PRIMARY KEY,
  event_id   uuid NOT NULL UNIQUE,
  topic      text NOT NULL,
  type       text NOT NULL,
  subject    text NOT NULL,
  period     text NOT NULL,
  leaf_hash  bytea NOT NULL,
  chain_hash bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS leaves_subject ON audit.leaves (subject, period, idx);

-- The bytes each leaf commits to, kept apart from the hash so that a lawful erasure (UU PDP) can shred them while
-- every proof stays valid (issue 9). Only erasure, by the administrator, may remove a row.
CREATE TABLE IF NOT EXISTS audit.leaf_data (
  idx  bigint PRIMARY KEY REFERENCES audit.leaves (idx),
  body bytea NOT NULL
);

-- Perfect-subtree nodes of the Merkle tree, written as appends complete them (level 0 = leaf hashes).
CREATE TABLE IF NOT EXISTS audit.nodes (
  level int NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx)
);

-- The tree head after the last append: size, root, the frontier (compact range) and the chain head.
CREATE TABLE IF NOT EXISTS audit.head (
  id int PRIMARY KEY CHECK (id = 1), size bigint NOT NULL, root bytea NOT NULL, frontier jsonb NOT NULL,
  chain_hash bytea NOT NULL
);
INSERT INTO audit.head VALUES (1, 0, sha256(''::bytea), '{"size": 0, "hashes": []}', '\x'::bytea)
  ON CONFLICT DO NOTHING;

-- Signed checkpoints (C2SP signed notes) issued over the tree.
CREATE TABLE IF NOT EXISTS audit.checkpoints (
  size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, issued_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS audit.consumer_positions (
  topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (topic, partition)
);

GRANT SELECT, INSERT ON audit.leaves, audit.leaf_data, audit.nodes, audit.checkpoints TO objektif_audit;
GRANT SELECT, UPDATE ON audit.head TO objektif_audit;
GRANT SELECT, INSERT, UPDATE ON audit.consumer_positions TO objektif_audit;

CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['leaves', 'leaf_data', 'nodes', 'checkpoints'] LOOP
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
