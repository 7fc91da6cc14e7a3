//! Keeping caches true: a change forgets the cached entries it affects on this node and is
//! published to the other nodes sharing the database, whose listener forgets them too.

use botyard_domain::{BotId, UserId, WorkspaceId};

use crate::{ChangeHook, Services};

/// Something cached elsewhere may be stale.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A user's credentials or email.
    User(UserId),
    /// A workspace's members or roles.
    Workspace(WorkspaceId),
    /// A bot (changed or deleted).
    Bot(BotId),
    /// The commands of a bot (by number).
    Commands(i64),
    /// The libraries and admin panels of a bot (by number).
    Content(i64),
}

impl Change {
    fn payload(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Workspace(id) => format!("workspace:{id}"),
            Self::Bot(id) => format!("bot:{id}"),
            Self::Commands(bot) => format!("commands:{bot}"),
            Self::Content(bot) => format!("content:{bot}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        let (kind, id) = payload.split_once(':')?;
        match kind {
            "user" => id.parse().ok().map(|n| Self::User(UserId(n))),
            "workspace" => WorkspaceId::parse(id).ok().map(Self::Workspace),
            "bot" => BotId::parse(id).map(Self::Bot),
            "commands" => id.parse().ok().map(Self::Commands),
            "content" => id.parse().ok().map(Self::Content),
            _ => None,
        }
    }
}

impl Services {
    /// Forgets what the caches hold about `change`, here and (through the database) on other nodes.
    pub async fn changed(&self, change: Change) {
        self.forget(&change);
        if let Err(e) = self.store.publish_change(&change.payload()).await {
            tracing::warn!(error = %e, ?change, "could not tell other nodes about a change");
        }
    }

    fn forget(&self, change: &Change) {
        match change.clone() {
            Change::User(id) => self.callers.remove_where(move |_, caller| caller.user.id == id),
            Change::Workspace(ws) => self.roles.remove_where(move |(_, w), _| *w == ws),
            Change::Bot(id) => {
                let web = id.clone();
                self.bots.remove_where(move |_, bot| bot.id == id);
                self.web_bots.remove_where(move |_, bot| bot.id == web);
            }
            Change::Commands(bot) => self.commands.remove_where(move |b, _| *b == bot),
            Change::Content(bot) => {
                self.libs.remove_where(move |b, _| *b == bot);
                self.panels.remove_where(move |b, _| *b == bot);
            }
        }
    }

    fn forget_everything(&self) {
        self.callers.clear();
        self.roles.clear();
        self.bots.clear();
        self.web_bots.clear();
        self.commands.clear();
        self.libs.clear();
        self.panels.clear();
    }

    /// Publishes a payload of another component (the runtime's message fan-out) to every node.
    pub async fn publish(&self, payload: &str) {
        if let Err(e) = self.store.publish_change(payload).await {
            tracing::warn!(error = %e, "could not tell other nodes about a change");
        }
    }

    /// Registers a function told about every payload other nodes publish.
    pub fn on_change(&self, hook: ChangeHook) {
        self.change_hooks.write().unwrap_or_else(|e| e.into_inner()).push(hook);
    }

    /// Listens to changes made by other nodes (PostgreSQL only) until the process ends.
    pub fn spawn_change_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.store.backend() != botyard_store::Backend::Postgres {
            return None;
        }
        let services = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let mut listener = match services.store.change_listener().await {
                    Ok(Some(listener)) => listener,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen to changes of other nodes; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Anything may have changed while nobody listened.
                services.forget_everything();
                loop {
                    match listener.next().await {
                        Ok(Some(payload)) => match Change::parse(&payload) {
                            Some(change) => services.forget(&change),
                            None => {
                                let hooks =
                                    services.change_hooks.read().unwrap_or_else(|e| e.into_inner()).clone();
                                for hook in hooks {
                                    hook(&payload);
                                }
                            }
                        },
                        Ok(None) => services.forget_everything(),
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the change notifications; reconnecting");
                            break;
                        }
                    }
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        for change in [
            Change::User(UserId(7)),
            Change::Workspace(WorkspaceId::generate()),
            Change::Bot(BotId::generate()),
            Change::Commands(12),
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("nonsense"), None);
    }
}
