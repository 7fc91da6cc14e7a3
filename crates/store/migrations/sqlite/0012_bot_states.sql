-- Botpress states (`getState`, `setState`, `getOrSetState`, `patchState`): a JSON payload per bot,
-- state type (conversation, user, bot), owner (the conversation's or user's id as the runtime API
-- shows it, or the bot's id) and name, with an optional expiry.
CREATE TABLE bot_states (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    state_type TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, state_type, owner, name)
);
