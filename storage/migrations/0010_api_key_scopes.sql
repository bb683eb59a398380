-- Ingest keys bound to sensors: a leaked device key must not post for sensors it has nothing to
-- do with. Columns rather than a table: the scope is read with the key by the one lookup every
-- request already makes. Every part given must hold (ids or a prefix, narrowed by a domain and
-- a subdistrict); none given on an ingest key: unbound, it may post for any sensor (an IoT
-- platform's), and listings say so. Keys created before this migration are unbound.
ALTER TABLE api_keys
    ADD COLUMN scope_sensors     text[],  -- exactly these sensor ids
    ADD COLUMN scope_prefix      text,    -- ids starting with this
    ADD COLUMN scope_domain      text,    -- sensors of this domain (the URL's and the registered type's)
    ADD COLUMN scope_subdistrict text,    -- sensors in this subdistrict (the URL's and the registered one)
    ADD CONSTRAINT api_keys_scope_ingest_only CHECK (
        role = 'ingest' OR num_nonnulls(scope_sensors, scope_prefix, scope_domain,
                                        scope_subdistrict) = 0
    ),
    ADD CONSTRAINT api_keys_scope_ids_or_prefix CHECK (num_nonnulls(scope_sensors, scope_prefix) < 2),
    ADD CONSTRAINT api_keys_scope_sensors_not_empty CHECK (cardinality(scope_sensors) > 0),
    ADD CONSTRAINT api_keys_scope_prefix_not_empty CHECK (scope_prefix <> '');
