-- Domains are configuration (domains.yaml in the registry folder), kept in a table that the
-- registry sync fills at prepare, instead of the CHECK lists of 0001 and 0005 that closed the set
-- to four. Types and alerts refer to a domain by its code; a domain is never deleted (alerts and
-- types may refer to it), only renamed, recoloured or moved.

CREATE TABLE domains (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,62}$'),
    name_zh    text NOT NULL,
    name_en    text NOT NULL,
    position   integer NOT NULL,  -- order on the walls, from the domains file
    colour     text NOT NULL CHECK (colour ~ '^#[0-9a-fA-F]{6}$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The four domains the CHECK lists allowed, so every existing row has its domain before the
-- references are added; the sync at prepare then writes the names and colours of the file.
INSERT INTO domains (code, name_zh, name_en, position, colour) VALUES
    ('buildings', '建筑能耗与室内环境', 'Buildings: energy and indoor environment', 0, '#5470c6'),
    ('water', '供排水管网', 'Water network', 1, '#3ba272'),
    ('power', '电网', 'Power grid', 2, '#fac858'),
    ('parking', '停车诱导', 'Parking', 3, '#9a60b4');

ALTER TABLE sensor_types
    DROP CONSTRAINT sensor_types_domain_check,
    ADD CONSTRAINT sensor_types_domain_fkey FOREIGN KEY (domain) REFERENCES domains (code);

ALTER TABLE alerts
    DROP CONSTRAINT alerts_domain_check,
    ADD CONSTRAINT alerts_domain_fkey FOREIGN KEY (domain) REFERENCES domains (code);
