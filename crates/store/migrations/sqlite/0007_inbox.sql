-- What arrived for bots and has not finished its run: written in the transaction that stores the
-- user's message (or the run that started it), deleted in the transaction that commits the run,
-- so a message accepted before a crash is run after it, once. Each row belongs to the node that
-- accepted it; nodes hold a lease, and the rows of a node whose lease lapsed are taken over.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES bot_users(id) ON DELETE SET NULL,
    arrival TEXT NOT NULL,
    node TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inbox_by_node ON inbox (node, id);

CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL
);

-- Counting a bot's delayed runs that wait.
CREATE INDEX jobs_by_bot_kind ON jobs (bot_id, kind, status);
