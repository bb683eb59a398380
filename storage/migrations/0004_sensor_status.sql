-- Sensor online/offline history (MQTT birth and last-will messages) and the current state.

CREATE TABLE sensor_status (
    sensor_id integer NOT NULL REFERENCES sensors (id),
    ts        timestamptz NOT NULL,
    online    boolean NOT NULL,
    PRIMARY KEY (sensor_id, ts)
);

ALTER TABLE sensors
    ADD COLUMN online boolean,
    ADD COLUMN status_changed_at timestamptz;
