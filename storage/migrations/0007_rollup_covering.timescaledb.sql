-- On PostgreSQL this version makes the rollups' primary keys covering (see the .postgres file).
-- TimescaleDB keeps continuous aggregates in hypertables of its own, chunked by time and
-- indexed by TimescaleDB; nothing to change here.
SELECT 1;
