//! Link maintenance on apply results: a `link` item writes the identity link (created on the first match or
//! create, kept when the source's email changes), and a desk that refuses a removal because it is open to every
//! customer is remembered, so later plans stop asking for what JSM will not do. Also the `links` commands.

use jsm_store::{AuditDraft, Link, SiteFact};
use serde_json::{Value, json};

use crate::apply::Outcome;
use crate::audit;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::{Action, Item};

/// Site fact kind: a desk open to every customer (JSM refuses to remove customers from it).
pub(crate) const OPEN_DESK: &str = "open_desk";

impl Engine {
    /// Writes the link a `link` item stands for; `Ok(Err(why))` when the account it needs is unknown.
    pub(crate) async fn put_link(
        &self,
        item: &Item,
        account: Option<&str>,
        scim: Option<String>,
    ) -> Result<std::result::Result<Value, String>> {
        let Action::Link {
            source, source_id, ..
        } = &item.action
        else {
            return Ok(Err("not a link item".into()));
        };
        let Some(account) = account.filter(|a| !a.is_empty()) else {
            return Ok(Err(
                "the item that makes the account finished without naming it".into(),
            ));
        };
        let now = self.client.clock().now();
        let existing = self.store.link_by_source(source, source_id).await?;
        let same = existing.as_ref().filter(|l| l.account_id == account);
        let link = Link {
            source: source.clone(),
            source_id: source_id.clone(),
            account_id: account.to_string(),
            scim_id: scim.or_else(|| same.and_then(|l| l.scim_id.clone())),
            created_at: existing.as_ref().map_or(now, |l| l.created_at),
            updated_at: now,
        };
        self.store.link_put(&link).await?;
        Ok(Ok(json!({
            "account_id": link.account_id,
            "scim_id": link.scim_id,
            "previous_account_id": existing.filter(|l| l.account_id != account).map(|l| l.account_id),
        })))
    }

    /// Remembers what an outcome teaches about the site.
    pub(crate) async fn learn_from(
        &self,
        item: &Item,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<()> {
        if outcome != Outcome::NotApplicable {
            return Ok(());
        }
        if let Action::RemoveFromDesk {
            desk_id, desk_key, ..
        } = &item.action
        {
            self.store
                .site_fact_put(&SiteFact {
                    site: self.site.clone(),
                    kind: OPEN_DESK.into(),
                    key: desk_id.clone(),
                    detail: format!(
                        "desk {desk_key} refused a customer removal: {}",
                        detail.unwrap_or("open to every customer")
                    ),
                    learned_at: self.client.clock().now(),
                })
                .await?;
        }
        Ok(())
    }

    /// The identity links, of one source or all.
    pub async fn links(&self, source: Option<&str>) -> Result<Vec<Link>> {
        Ok(self.store.links(source).await?)
    }

    /// The links of one source identity or one account: `who` is a source id (with `source`) or an account id.
    pub async fn links_of(&self, source: Option<&str>, who: &str) -> Result<Vec<Link>> {
        let mut found = Vec::new();
        match source {
            Some(s) => found.extend(self.store.link_by_source(s, who).await?),
            None => {
                for l in self.store.links(None).await? {
                    if l.source_id == who {
                        found.push(l);
                    }
                }
            }
        }
        for l in self.store.link_by_account(who).await? {
            if !found.contains(&l) {
                found.push(l);
            }
        }
        Ok(found)
    }

    /// Removes a link (the next reconcile matches the person again by the other rules), audited.
    pub async fn unlink(&self, source: &str, source_id: &str) -> Result<Link> {
        let Some(link) = self.store.link_by_source(source, source_id).await? else {
            return Err(Error::not_found(format!("link {source} / {source_id}")));
        };
        self.store.link_remove(source, source_id).await?;
        self.store
            .audit_append(AuditDraft {
                at: self.client.clock().now(),
                actor: self.actor.clone(),
                kind: audit::kind::WRITE.into(),
                plan_id: None,
                item_key: None,
                action: "unlink".into(),
                target: format!("{source} / {source_id}"),
                outcome: "applied".into(),
                request_id: None,
                detail: json!({ "account_id": link.account_id, "scim_id": link.scim_id }),
            })
            .await?;
        Ok(link)
    }
}
