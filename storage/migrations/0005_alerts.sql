-- The alert engine's state, its audit trail, the notification outbox and silences.
-- Everything the engine needs to resume after a crash lives here: pending timers (pending_since,
-- clearing_since), what each notification group was last told, and every message not yet sent.

-- One row per (rule, subject): the fingerprint. A new episode overwrites the row; the history of
-- earlier episodes is in alert_transitions.
CREATE TABLE alerts (
    fingerprint      text PRIMARY KEY,
    rule_id          text NOT NULL,
    subject_kind     text NOT NULL CHECK (subject_kind IN ('sensor', 'subdistrict', 'district')),
    subject_id       text NOT NULL,
    domain           text NOT NULL CHECK (domain IN ('buildings', 'water', 'power', 'parking')),
    subdistrict      text,  -- subdistrict code; NULL for district-wide subjects
    phase            text NOT NULL CHECK (phase IN ('inactive', 'pending', 'firing', 'resolved')),
    grade            text CHECK (grade IN ('blue', 'yellow', 'orange', 'red')),
    value            double precision,
    pending_since    timestamptz,  -- the start of the episode
    firing_since     timestamptz,
    resolved_at      timestamptz,
    grade_changed_at timestamptz,
    clearing_since   timestamptz,  -- keep_firing_for counts from here
    ops              text NOT NULL DEFAULT 'open'
                     CHECK (ops IN ('open', 'acknowledged', 'assigned', 'closed')),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    assignee         text,
    note             text,
    closed_at        timestamptz,
    labels           jsonb NOT NULL DEFAULT '{}',
    -- Per escalating route: {"<route key>": {"episode": ts, "since": ts|null, "levels_sent": n}}
    escalation       jsonb NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- Bumped from alert_ops_seq by every ops action, so the engine can pick up exactly the
    -- acknowledgements and closures made since it last looked.
    ops_seq          bigint NOT NULL DEFAULT 0
);
CREATE SEQUENCE alert_ops_seq;
CREATE INDEX alerts_open ON alerts (phase, grade) WHERE phase IN ('pending', 'firing');
CREATE INDEX alerts_ops_seq ON alerts (ops_seq);
CREATE INDEX alerts_rule ON alerts (rule_id);

-- Every transition of every alert: the audit trail of the closed loop (闭环处置).
CREATE TABLE alert_transitions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint    text NOT NULL,
    rule_id        text NOT NULL,
    at             timestamptz NOT NULL,
    kind           text NOT NULL,
    from_phase     text NOT NULL,
    to_phase       text NOT NULL,
    grade          text,
    previous_grade text,
    value          double precision,
    actor          text,  -- who, for ops actions; NULL for the engine
    note           text,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_transitions_at ON alert_transitions (at);
CREATE INDEX alert_transitions_fingerprint ON alert_transitions (fingerprint, at);

-- What each notification group (route + group labels) was last told: Alertmanager's
-- notification log, so a restart neither repeats a message nor forgets a resolved one.
CREATE TABLE notification_groups (
    group_key     text PRIMARY KEY,
    receiver      text NOT NULL,
    episode_start timestamptz NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_sent_at  timestamptz,
    grade         text,
    firing        text[] NOT NULL DEFAULT '{}',  -- fingerprints in the last message
    updates       integer NOT NULL DEFAULT 0,    -- firing messages sent in this episode
    repeats       integer NOT NULL DEFAULT 0
);

-- The outbox: a notification is stored in the same transaction as the transitions that caused
-- it, then delivered (at least once) with the same idempotency key and body on every attempt.
CREATE TABLE notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    receiver         text NOT NULL,
    group_key        text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('firing', 'repeat', 'escalation', 'resolved')),
    grade            text,
    sequence         integer NOT NULL,
    episode_start    timestamptz NOT NULL,
    alert_count      integer NOT NULL,
    payload          json NOT NULL,  -- json, not jsonb: the body keeps its key order
    created_at       timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz,
    next_attempt_at  timestamptz NOT NULL,
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_created ON notifications (created_at);

-- Silences, as in Alertmanager: label matchers and a time window. Silenced alerts still change
-- state (the audit stays complete); only their notifications are held back.
CREATE TABLE silences (
    id         text PRIMARY KEY,
    matchers   text[] NOT NULL,  -- Alertmanager syntax: subdistrict=yinhang, grade=~"orange|red"
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by text NOT NULL,
    comment    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX silences_ends ON silences (ends_at);

-- One row per running engine replica: which one evaluates, and how its ticks go.
CREATE TABLE alert_engines (
    name           text PRIMARY KEY,
    leader         boolean NOT NULL,
    started_at     timestamptz NOT NULL,
    heartbeat_at   timestamptz NOT NULL,
    last_tick_at   timestamptz,
    last_tick_s    double precision,
    active_alerts  integer
);
