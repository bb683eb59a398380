-- Range queries over many sensors (a subdistrict's gauges over a week: ~170k rollup rows) read
-- every rollup row of each sensor. Rows are written a bucket at a time, so one sensor's rows sit
-- on as many heap pages as it has rows; with the values in the primary key's index the same
-- query is an index-only scan of consecutive entries (measured: p99 1.3 s -> well under 200 ms,
-- `make bench`, gateway group). The index replaces the primary key, so it costs the value
-- columns once, not a second index.

ALTER TABLE rollup_1m
    DROP CONSTRAINT rollup_1m_pkey,
    ADD PRIMARY KEY (sensor_id, metric_id, bucket)
        INCLUDE (samples, value_sum, value_min, value_max, value_last);

ALTER TABLE rollup_1h
    DROP CONSTRAINT rollup_1h_pkey,
    ADD PRIMARY KEY (sensor_id, metric_id, bucket)
        INCLUDE (samples, value_sum, value_min, value_max, value_last);
