-- Kore.ai app tokens live at most the app's lifetime for tokens, and a jti is accepted once (for
-- apps that require one): the ids seen are kept until the token they came with expires.
ALTER TABLE api_apps ADD COLUMN token_lifetime_secs BIGINT NOT NULL DEFAULT 3600;

CREATE TABLE app_token_uses (
    client_id TEXT NOT NULL REFERENCES api_apps(client_id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX app_token_uses_by_expiry ON app_token_uses (expires_at);
