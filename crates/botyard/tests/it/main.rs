//! botyard's integration tests, in one binary: each test starts the real server on an ephemeral
//! port, against SQLite and (when `BOTYARD_TEST_POSTGRES_URL` is set) PostgreSQL, and talks to it
//! over HTTP. Response bodies are pinned with insta snapshots: they are the compatibility
//! contract of each dialect.

mod harness;

mod accounts;
mod archive;
mod bb_fidelity;
mod bb_fixture_bots;
mod bb_jobs;
mod bb_libs;
mod bb_support;
mod botpress_bots;
mod botpress_sdk_bots;
mod bots_business_bots;
mod broadcasts;
mod chat_api;
mod cli;
mod cluster;
mod commands;
mod crash;
mod cross_dialect;
mod dashboard;
mod fake_telegram;
mod git_http;
mod git_remotes;
mod hardening;
mod isolation;
mod jobs_support;
mod koreai;
mod koreai_admin;
mod koreai_bots;
mod lifecycle;
mod lifecycle_dialects;
mod limits;
mod metrics;
mod node_clients;
mod openapi;
mod roles;
mod runtime;
mod scheduled;
mod telegram;
mod webchat;
