-- A chat's dialog state for bots whose engine keeps one between messages (a Kore.ai bot's task
-- stack, current node, collected entities, context and session variables), written with the
-- effects of the run that changed it.
CREATE TABLE chat_dialog_states (
    chat_id BIGINT PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
