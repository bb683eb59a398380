-- Ingest activity: per minute and domain, how many readings were stored and the newest one's
-- time. The writer adds to it in the readings' own transaction (storage/activity.py), so it never
-- says more than is stored; the walls' ingest-health panels read it instead of scanning raw
-- readings (a few rows per minute instead of thousands of readings a second).
--
-- Key (minute, domain): the rate panel reads a time range over all domains. The second index
-- serves "the newest minute of each domain" for the lag panel. Neither indexes `readings` or
-- `newest`, so the upserts of the current minute leave the indexes alone.
-- A hypertable so that TimescaleDB's own retention job drops old minutes (storage/timescale.py),
-- as it does for the readings; never compressed: late readings still add to old minutes.
CREATE TABLE ingest_activity (
    minute   timestamptz NOT NULL,
    domain   text NOT NULL,
    readings bigint NOT NULL CHECK (readings > 0),
    newest   timestamptz NOT NULL,
    PRIMARY KEY (minute, domain)
);
SELECT create_hypertable(
    'ingest_activity', 'minute',
    chunk_time_interval => INTERVAL '7 days', create_default_indexes => false
);
CREATE INDEX ingest_activity_domain ON ingest_activity (domain, minute DESC);

-- The dead-letter panels count letters by reason over a time range: with the reason in the
-- index they are answered from it alone (index-only scans), not from the payload-heavy heap.
-- It starts with received_at, so it replaces the index on received_at alone.
CREATE INDEX dead_letters_received_reason ON dead_letters (received_at, reason);
DROP INDEX dead_letters_received;
