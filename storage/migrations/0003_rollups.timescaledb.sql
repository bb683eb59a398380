-- TimescaleDB continuous aggregates at 1 minute and 1 hour. Real-time (materialized_only = false)
-- so the newest buckets come from raw data until materialized, like the PostgreSQL views.
-- Refresh and retention policies are applied from settings by storage/policies.py.

CREATE MATERIALIZED VIEW readings_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
    SELECT time_bucket(INTERVAL '1 minute', ts) AS bucket, sensor_id, metric_id,
           count(*) AS samples, sum(value) AS value_sum, min(value) AS value_min,
           max(value) AS value_max, last(value, ts) AS value_last
    FROM readings
    GROUP BY time_bucket(INTERVAL '1 minute', ts), sensor_id, metric_id
WITH NO DATA;

CREATE MATERIALIZED VIEW readings_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
    SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket, sensor_id, metric_id,
           count(*) AS samples, sum(value) AS value_sum, min(value) AS value_min,
           max(value) AS value_max, last(value, ts) AS value_last
    FROM readings
    GROUP BY time_bucket(INTERVAL '1 hour', ts), sensor_id, metric_id
WITH NO DATA;
