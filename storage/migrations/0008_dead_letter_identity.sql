-- A dead letter is identified by the message it keeps: a digest of its topic and payload bytes
-- (which carry the reading time, when there is one). A message the broker delivers again (it
-- was committed but not acknowledged before a crash or a lost connection) finds its letter and
-- stores nothing; the same bytes sent again by the device count as a repeat of that letter.
-- Letters stored before this migration keep no key and stay as they are.
ALTER TABLE dead_letters
    ADD COLUMN message_key      bytea,
    ADD COLUMN repeats          integer NOT NULL DEFAULT 1 CHECK (repeats >= 1),
    ADD COLUMN last_received_at timestamptz;

CREATE UNIQUE INDEX dead_letters_message_key ON dead_letters (message_key)
    WHERE message_key IS NOT NULL;
