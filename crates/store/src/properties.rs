//! Bot, user and chat properties: what scripts store with `Bot/User/Chat.setProperty` (written by
//! a run's commit, [`crate::commit`]) and what the admin APIs list and delete.

use botyard_domain::Result;
use botyard_domain::Timestamp;
use botyard_domain::property::{Property, PropertyScope, PropertyType};

use std::collections::HashMap;

use crate::Store;
use crate::bots::SqlBuilder;
use crate::error::{db, json};
use crate::rows::{StoredRow, get};

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait PropertyStore {
    async fn property(
        &self,
        bot: i64,
        scope: PropertyScope,
        owner: i64,
        name: &str,
    ) -> Result<Option<Property>>;
    /// Several properties, of any bots, at once: one answer per key, in order.
    async fn properties_of(&self, keys: &[PropertyKey]) -> Result<Vec<Option<Property>>>;
    /// Properties of the bot (optionally of one scope), one page (from 1).
    async fn properties_page(
        &self,
        bot: i64,
        scope: Option<PropertyScope>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Property>>;
    async fn delete_property(&self, bot: i64, id: i64) -> Result<bool>;
}

/// A property by its bot, scope, owner and name.
pub type PropertyKey = (i64, PropertyScope, i64, String);

impl PropertyStore for Store {
    async fn property(
        &self,
        bot: i64,
        scope: PropertyScope,
        owner: i64,
        name: &str,
    ) -> Result<Option<Property>> {
        Ok(self.properties_of(&[(bot, scope, owner, name.to_owned())]).await?.pop().flatten())
    }

    async fn properties_of(&self, keys: &[PropertyKey]) -> Result<Vec<Option<Property>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::read(
            "SELECT id, bot_id, scope, owner_id, name, kind, value, updated_at FROM properties WHERE ",
        );
        for (i, (bot, scope, owner, name)) in keys.iter().enumerate() {
            sql.push(if i == 0 { "(bot_id = " } else { " OR (bot_id = " });
            sql.bind(*bot);
            sql.push(" AND scope = ");
            sql.bind(scope.as_str().to_owned());
            sql.push(" AND owner_id = ");
            sql.bind(*owner);
            sql.push(" AND name = ");
            sql.bind(name.clone());
            sql.push(")");
        }
        let mut found = HashMap::new();
        for row in self.read_rows(sql).await? {
            let bot: i64 = get(&row, "bot_id")?;
            let p = property(&row)?;
            found.insert((bot, p.scope, p.owner, p.name.clone()), p);
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn properties_page(
        &self,
        bot: i64,
        scope: Option<PropertyScope>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Property>> {
        let offset = botyard_domain::page::offset(page, per_page);
        let found = sqlx::query(
            "SELECT id, scope, owner_id, name, kind, value, updated_at FROM properties \
             WHERE bot_id = $1 AND ($2 = '' OR scope = $2) ORDER BY id LIMIT $3 OFFSET $4",
        )
        .bind(bot)
        .bind(scope.map_or("", PropertyScope::as_str))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found.iter().map(property).collect()
    }

    async fn delete_property(&self, bot: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM properties WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}

fn property(r: &impl StoredRow) -> Result<Property> {
    let value: String = get(r, "value")?;
    Ok(Property {
        id: get(r, "id")?,
        scope: PropertyScope::parse(&get::<String>(r, "scope")?)?,
        owner: get(r, "owner_id")?,
        name: get(r, "name")?,
        kind: PropertyType::parse(&get::<String>(r, "kind")?)?,
        value: json(&value, "property value")?,
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}
