-- Telegram accounts linked to botyard accounts (Telegram login), and the account's ads flag
-- (Bots.Business's "turn ON or OFF ads"; botyard shows no ads but keeps the choice).
CREATE TABLE telegram_accounts (
    telegram_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    photo_url TEXT,
    linked_at BIGINT NOT NULL
);
CREATE INDEX telegram_accounts_by_user ON telegram_accounts (user_id, linked_at);

ALTER TABLE users ADD COLUMN ads_enabled BIGINT NOT NULL DEFAULT 1;
