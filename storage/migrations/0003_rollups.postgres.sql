-- Plain PostgreSQL rollups, refreshed by storage/rollups.py on the platform's scheduler.
-- readings_1m / readings_1h are views with the same columns as TimescaleDB's real-time continuous
-- aggregates: materialized buckets below the watermark, raw data aggregated on the fly above it,
-- so query code is the same on both backends and never shows stale buckets.

CREATE TABLE rollup_watermarks (
    rollup    text PRIMARY KEY,
    width     interval NOT NULL,
    watermark timestamptz NOT NULL
);
INSERT INTO rollup_watermarks VALUES
    ('1m', INTERVAL '1 minute', '-infinity'),
    ('1h', INTERVAL '1 hour', '-infinity');

-- Written by the batch writer only when a batch reaches below a watermark (late data).
CREATE TABLE rollup_invalidations (
    rollup text NOT NULL REFERENCES rollup_watermarks (rollup),
    lo     timestamptz NOT NULL,
    hi     timestamptz NOT NULL
);

CREATE TABLE rollup_1m (
    bucket     timestamptz NOT NULL,
    sensor_id  integer NOT NULL,
    metric_id  smallint NOT NULL,
    samples    bigint NOT NULL,
    value_sum  double precision NOT NULL,
    value_min  double precision NOT NULL,
    value_max  double precision NOT NULL,
    value_last double precision NOT NULL,
    PRIMARY KEY (sensor_id, metric_id, bucket)
);
CREATE INDEX rollup_1m_bucket_brin ON rollup_1m USING brin (bucket);

CREATE TABLE rollup_1h (LIKE rollup_1m INCLUDING ALL);

CREATE VIEW readings_1m AS
    SELECT bucket, sensor_id, metric_id, samples, value_sum, value_min, value_max, value_last
    FROM rollup_1m
    WHERE bucket < (SELECT watermark FROM rollup_watermarks WHERE rollup = '1m')
    UNION ALL
    SELECT date_bin(INTERVAL '1 minute', ts, TIMESTAMPTZ '2000-01-03 00:00+00'), sensor_id,
           metric_id, count(*), sum(value), min(value), max(value),
           (array_agg(value ORDER BY ts DESC))[1]
    FROM readings
    WHERE ts >= (SELECT watermark FROM rollup_watermarks WHERE rollup = '1m')
    GROUP BY 1, 2, 3;

CREATE VIEW readings_1h AS
    SELECT bucket, sensor_id, metric_id, samples, value_sum, value_min, value_max, value_last
    FROM rollup_1h
    WHERE bucket < (SELECT watermark FROM rollup_watermarks WHERE rollup = '1h')
    UNION ALL
    SELECT date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ '2000-01-03 00:00+00'), sensor_id,
           metric_id, count(*), sum(value), min(value), max(value),
           (array_agg(value ORDER BY ts DESC))[1]
    FROM readings
    WHERE ts >= (SELECT watermark FROM rollup_watermarks WHERE rollup = '1h')
    GROUP BY 1, 2, 3;
