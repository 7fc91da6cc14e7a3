//! Limits on a bot's definition. Counts and sizes are Botpress's published limits (a breach is
//! `LimitExceeded`); field lengths follow Botpress's API schema (a breach is `InvalidPayload`).

pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
pub const CONFIGURATION_DATA_MAX_BYTES: usize = 20 * 1024;
pub const SCHEMA_MAX_BYTES: usize = 100 * 1024;
pub const INTEGRATIONS_MAX: usize = 30;
pub const PLUGINS_MAX: usize = 30;
pub const RECURRING_EVENTS_MAX: usize = 5;
pub const RECURRING_PAYLOAD_MAX_BYTES: usize = 128 * 1024;
pub const EVENT_DEFINITIONS_MAX: usize = 20;
pub const ACTION_DEFINITIONS_MAX: usize = 50;
pub const STATE_DEFINITIONS_MAX: usize = 5;
pub const TAG_DEFINITIONS_MAX: usize = 50;
pub const BOT_TAGS_MAX: usize = 50;
pub const SECRETS_MAX: usize = 50;
pub const MEDIAS_MAX: usize = 50;
pub const LAYERS_MAX: usize = 50;
/// Botpress bundles (`bp deploy` output with the SDK and its client) run to a few MiB.
pub const CODE_MAX_BYTES: usize = 4 * 1024 * 1024;

pub const TAG_KEY_MAX_CHARS: usize = 100;
pub const TAG_VALUE_MAX_CHARS: usize = 500;
pub const TAG_TITLE_MAX_CHARS: usize = 64;
pub const TAG_DESCRIPTION_MAX_CHARS: usize = 256;
pub const ATTRIBUTE_MAX_CHARS: usize = 200;
pub const CRON_MAX_CHARS: usize = 200;
pub const EVENT_TYPE_MAX_CHARS: usize = 200;
pub const SECRET_VALUE_MAX_CHARS: usize = 20_000;
pub const URL_MAX_CHARS: usize = 2048;
/// Longest name of a definition key (event, action, state, integration alias, …).
pub const KEY_MAX_CHARS: usize = 200;
pub const MAX_EXECUTION_TIME_MAX_SECS: u32 = 900;
