-- The HTTP gateway: API keys, where each sensor type came from, and indexes for API listings.

-- Only a hash of each secret is stored: a stolen backup or a log of this table opens nothing.
-- `id` is the public part of a key (cvk_<id>_<secret>), shown in listings and logs.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,  -- who or what holds it; the actor recorded for its ops actions
    role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin', 'ingest')),
    secret_hash  text NOT NULL,  -- sha256 of the whole key, hex
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- 'file': synced from schemas/sensor_types at start (the files own it); 'api': posted to the
-- gateway (the database owns it; no file would put it back on a restart).
ALTER TABLE sensor_types
    ADD COLUMN origin text NOT NULL DEFAULT 'file' CHECK (origin IN ('file', 'api'));

CREATE INDEX alerts_updated ON alerts (updated_at DESC, fingerprint DESC);
