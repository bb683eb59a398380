-- TimescaleDB: a hypertable with daily chunks, compressed per sensor once chunks are old.
-- Compression and retention policies are applied from settings by storage/policies.py.

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE readings (
    ts        timestamptz NOT NULL,
    sensor_id integer NOT NULL,
    metric_id smallint NOT NULL,
    value     double precision NOT NULL
);

SELECT create_hypertable('readings', 'ts', chunk_time_interval => INTERVAL '1 day');

-- The identity of a reading: a redelivered message stores nothing twice.
CREATE UNIQUE INDEX readings_identity ON readings (sensor_id, metric_id, ts DESC);

ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'sensor_id',
    timescaledb.compress_orderby = 'metric_id, ts DESC'
);
