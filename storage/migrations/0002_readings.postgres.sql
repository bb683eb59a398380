-- Plain PostgreSQL: native daily range partitions (created ahead by the maintenance scheduler,
-- dropped for retention), BRIN on time for district-wide scans.

CREATE TABLE readings (
    ts        timestamptz NOT NULL,
    sensor_id integer NOT NULL,
    metric_id smallint NOT NULL,
    value     double precision NOT NULL
) PARTITION BY RANGE (ts);

-- The identity of a reading: a redelivered message stores nothing twice.
CREATE UNIQUE INDEX readings_identity ON readings (sensor_id, metric_id, ts DESC);
CREATE INDEX readings_ts_brin ON readings USING brin (ts) WITH (pages_per_range = 32);
