-- TimescaleDB only (its compressed chunks' sparse indexes); plain PostgreSQL has nothing to do.
SELECT 1;
