//! `GET /conversations/{id}/listen`: a Server-Sent Events stream of the conversation's messages.
//!
//! Each event is a `data:` line of JSON `{type, data}` without an SSE event name (the
//! `@botpress/chat` client only reads unnamed events): `message_created` (with `isBot`),
//! `message_updated` (botyard: an edited bot message), `message_deleted`, and a `ping` every 3
//! seconds: `@botpress/chat` on Node 20 drops a stream that carries no data for 5 seconds. The stream opens with a comment so
//! the headers reach the client at once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use botyard_domain::bot::Bot;
use botyard_runtime::Runtime;
use botyard_runtime::hub::ChatEvent;
use futures::stream::{self, Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::WebUser;
use super::views::MessageView;
use crate::AppState;

/// Under 4 s: `@botpress/chat` on Node 20 drops a stream after 5 s without data.
const HEARTBEAT: Duration = Duration::from_secs(3);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(listen))
}

/// Listen to the conversation (`listenConversation`): Server-Sent Events.
#[utoipa::path(get, path = "/conversations/{id}/listen", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "A stream of Server-Sent Events: `data:` lines of JSON `{type, data}` for each new, edited or deleted message, and a `ping` every 3 seconds", content_type = "text/event-stream")))]
async fn listen(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let chat = state.runtime.web_conversation(&me.bot, &me.user, &id).await?;
    let events = BroadcastStream::new(state.runtime.hub().subscribe(chat.id));
    let runtime = state.runtime.clone();
    let bot = Arc::new(me.bot);
    let authors: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let conversation: Arc<str> = Arc::from(id.as_str());
    let messages = events.take_while(|event| std::future::ready(event.is_ok())).filter_map(move |event| {
        let (runtime, bot, authors, conversation) =
            (runtime.clone(), bot.clone(), authors.clone(), conversation.clone());
        async move {
            let event = event.ok()?;
            signal(&runtime, &bot, &authors, &conversation, event)
                .await
                .map(|data| Event::default().data(data.to_string()))
        }
    });
    let pings =
        IntervalStream::new(tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT))
            .map(|_| Event::default().data(json!({"type": "ping", "data": {}}).to_string()));
    let opening = stream::once(std::future::ready(Event::default().comment("connected")));
    let stopping = state.runtime.stopping();
    let stream = opening
        .chain(stream::select(messages, pings))
        .take_until(async move { stopping.cancelled().await })
        .map(Ok);
    Ok(Sse::new(stream))
}

/// The JSON of a signal for one chat event.
async fn signal(
    runtime: &Runtime,
    bot: &Bot,
    authors: &Mutex<HashMap<i64, String>>,
    conversation: &str,
    event: ChatEvent,
) -> Option<Value> {
    let (kind, message) = match event {
        ChatEvent::Created(message) => ("message_created", message),
        ChatEvent::Updated(message) => ("message_updated", message),
        ChatEvent::Deleted { uid, user_id, .. } => {
            let author = match user_id {
                Some(user) => author(runtime, bot, authors, user).await.unwrap_or_default(),
                None => bot.id.to_string(),
            };
            return Some(
                json!({"type": "message_deleted", "data": {"id": uid, "conversationId": conversation, "userId": author}}),
            );
        }
    };
    let is_bot = message.from_bot();
    let author = match message.user_id {
        None => bot.id.to_string(),
        Some(user) => author(runtime, bot, authors, user).await?,
    };
    let mut data = serde_json::to_value(MessageView::new((*message).clone(), conversation, author)).ok()?;
    data["isBot"] = Value::Bool(is_bot);
    Some(json!({"type": kind, "data": data}))
}

/// The external id of a user of the bot, remembered for the stream's lifetime.
async fn author(
    runtime: &Runtime,
    bot: &Bot,
    authors: &Mutex<HashMap<i64, String>>,
    user: i64,
) -> Option<String> {
    let mut known = authors.lock().await;
    if let Some(a) = known.get(&user) {
        return Some(a.clone());
    }
    let found = runtime.web_user_external_id(bot, user).await.ok()??;
    known.insert(user, found.clone());
    Some(found)
}
