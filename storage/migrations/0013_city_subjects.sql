-- City-wide vital-sign rules (`subject: city`): one alert per rule for the whole configured city
-- (every district of the geography files together), next to the per-subdistrict and per-district
-- subjects of 0005.

ALTER TABLE alerts
    DROP CONSTRAINT alerts_subject_kind_check,
    ADD CONSTRAINT alerts_subject_kind_check
        CHECK (subject_kind IN ('sensor', 'subdistrict', 'district', 'city'));
