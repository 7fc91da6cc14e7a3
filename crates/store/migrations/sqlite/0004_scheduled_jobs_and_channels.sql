-- Scheduled runs (dedupe keys for periodic runs, labels for Bot.clearRunAfter), the Telegram
-- channel (message ids on Telegram, update de-duplication, receiving leases, the outbox of sends).

ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;
ALTER TABLE jobs ADD COLUMN label TEXT;
CREATE UNIQUE INDEX jobs_by_dedupe_key ON jobs (dedupe_key);
CREATE INDEX jobs_by_label ON jobs (bot_id, label, status);

ALTER TABLE messages ADD COLUMN external_id TEXT;
CREATE INDEX messages_by_external_id ON messages (chat_id, external_id);

CREATE TABLE telegram_updates (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    update_id BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, update_id)
);

CREATE TABLE telegram_receivers (
    bot_id BIGINT PRIMARY KEY REFERENCES bots(id) ON DELETE CASCADE,
    next_offset BIGINT NOT NULL,
    node TEXT,
    lease_until BIGINT,
    webhook_secret TEXT
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id BIGINT,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    callback TEXT,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    node TEXT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at, id);
CREATE INDEX outbox_by_chat ON outbox (chat_id, id);
