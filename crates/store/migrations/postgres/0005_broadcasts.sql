-- Which chats a broadcast has run in (written with each run's effects, so a resumed broadcast
-- skips them), and whether the run succeeded.
CREATE TABLE job_marks (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    mark BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    PRIMARY KEY (job_id, mark)
);
CREATE INDEX chats_by_bot_kind ON chats (bot_id, chat_type, id);
