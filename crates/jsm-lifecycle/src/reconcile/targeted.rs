//! The targeted read: only what a handful of people need (`trace`, an incremental run of few changes, a
//! webhook's one person). Each account is asked about by its own id, email or external id, and so are its
//! memberships (its groups, its organizations, a desk searched for it), so no desk's, organization's or group's
//! member list is read. The result is not `complete`: a reconcile on it plans only for these people.

use jsm_proto::scim::ScimUser;
use jsm_sources::{MembershipMode, Target};

use super::observe::{
    AccountKind, EmailFrom, Lookups, Observed, SiteAccount, TargetKind, Wanted, scim_record,
    site_account,
};
use crate::engine::Engine;
use crate::error::Result;

impl Engine {
    /// Reads only what a handful of people need: their linked accounts, the accounts their external ids and
    /// emails find, and those accounts' memberships of the managed targets. Cheap enough for `trace` on a
    /// large site.
    pub async fn observe_people(
        &self,
        wanted: &Wanted,
        modes: &(dyn Fn(&Target) -> MembershipMode + Sync),
        lookups: &Lookups,
    ) -> Result<Observed> {
        let before = self.calls_sent();
        let mut o = self.observe_targets(wanted, modes).await?;
        self.look_up(&mut o, lookups).await?;
        self.finish_targeted(&mut o, before).await?;
        Ok(o)
    }

    /// The start of a targeted read: the managed targets resolved, and the caller's account (never acted on).
    pub(super) async fn observe_targets(
        &self,
        wanted: &Wanted,
        modes: &(dyn Fn(&Target) -> MembershipMode + Sync),
    ) -> Result<Observed> {
        let mut o = Observed::default();
        (o.scim, o.admin) = (self.caps.scim, self.caps.admin);
        self.resolve_targets(&mut o, wanted, modes).await?;
        let me = self.client.users().myself().await?;
        o.me = Some(o.add_account(site_account(&me)));
        Ok(o)
    }

    /// Adds the accounts the lookups find: by account id, by SCIM `externalId`, by email.
    pub(super) async fn look_up(&self, o: &mut Observed, lookups: &Lookups) -> Result<()> {
        for id in &lookups.account_ids {
            if let Some(a) = self.account_by_id(id).await? {
                o.add_account(a);
            }
        }
        if self.caps.scim {
            for ext in &lookups.external_ids {
                let found = self
                    .client
                    .scim()
                    .users()
                    .filter(jsm_client::handlers::scim::eq_filter("externalId", ext))
                    .all()
                    .await?;
                for su in found {
                    self.add_scim_user(o, &su).await?;
                }
            }
        }
        for email in &lookups.emails {
            self.look_up_email(o, email, lookups.admin_scan).await?;
        }
        Ok(())
    }

    /// The accounts an email finds: its SCIM user, a `user/search` (which matches hidden emails too), and, when
    /// allowed and nothing else found one, the admin API's user list.
    async fn look_up_email(&self, o: &mut Observed, email: &str, admin_scan: bool) -> Result<()> {
        if self.caps.scim
            && let Some(su) = self.client.scim().find_user_by_user_name(email).await?
        {
            self.add_scim_user(o, &su).await?;
        }
        for u in self.search_email(email).await? {
            let i = o.add_account(site_account(&u));
            if o.account(i).email.is_none() {
                o.add_search_hit(email, i);
            }
        }
        if !(admin_scan && self.caps.admin && o.by_email(email).is_empty()) {
            return Ok(());
        }
        let Some(au) = self.client.admin().find_user_by_email(email).await? else {
            return Ok(());
        };
        if let Some(mut a) = self.account_by_id(&au.account_id).await? {
            if a.email.is_none() {
                a.email = au.email.clone();
                a.email_from = EmailFrom::Admin;
            }
            o.add_account(a);
        }
        Ok(())
    }

    /// Ends a targeted read: the SCIM records of accounts found otherwise (the caller's is not needed), the
    /// indexes, the memberships, and the calls made since `before`.
    pub(super) async fn finish_targeted(&self, o: &mut Observed, before: u32) -> Result<()> {
        let me = o.me.map(|i| i as usize);
        for (i, a) in o.accounts.iter_mut().enumerate() {
            if Some(i) != me {
                self.attach_scim_record(a).await?;
            }
        }
        o.reindex();
        self.read_memberships_of(o).await?;
        o.calls = self.calls_sent().saturating_sub(before);
        Ok(())
    }

    /// One account by its id, or none when the site does not have it.
    pub(super) async fn account_by_id(&self, account_id: &str) -> Result<Option<SiteAccount>> {
        match self.client.users().get(account_id).await {
            Ok(u) => Ok(Some(site_account(&u))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The SCIM record of an Atlassian account found otherwise, by the `userName` its email suggests (nothing
    /// without SCIM, or when the email is hidden).
    pub(super) async fn attach_scim_record(&self, a: &mut SiteAccount) -> Result<()> {
        if !self.caps.scim || a.scim.is_some() || a.kind != AccountKind::Atlassian {
            return Ok(());
        }
        let Some(email) = a.email.clone() else {
            return Ok(());
        };
        if let Some(su) = self.client.scim().find_user_by_user_name(&email).await?
            && su.atlassian_account_id() == Some(a.account_id.as_str())
        {
            a.scim = scim_record(&su);
        }
        Ok(())
    }

    async fn add_scim_user(&self, o: &mut Observed, su: &ScimUser) -> Result<()> {
        let Some(id) = su.atlassian_account_id() else {
            return Ok(());
        };
        let i = match o.account_index(id) {
            Some(i) => i,
            None => match self.account_by_id(id).await? {
                Some(a) => o.add_account(a),
                None => return Ok(()),
            },
        };
        let a = &mut o.accounts[i as usize];
        a.scim = scim_record(su);
        if a.email.is_none() {
            a.email = Some(su.user_name.clone());
            a.email_from = EmailFrom::Scim;
        }
        Ok(())
    }

    /// The memberships of every account read so far but the caller's, one account at a time.
    async fn read_memberships_of(&self, o: &mut Observed) -> Result<()> {
        for i in 0..o.accounts.len() as u32 {
            if Some(i) == o.me {
                continue;
            }
            for t in self.memberships_of(o, i).await? {
                o.targets[t].members.insert(i);
            }
        }
        Ok(())
    }

    /// The managed targets one account is in: its groups and its organizations (each one call for the
    /// account), and each managed desk searched for it by its email (or the one a search found it under),
    /// else by its display name.
    async fn memberships_of(&self, o: &Observed, i: u32) -> Result<Vec<usize>> {
        let a = o.account(i);
        let has = |kind| o.targets.iter().any(|t| t.kind == kind);
        let groups = if has(TargetKind::Group) {
            self.observe().groups_of(&a.account_id).await?
        } else {
            Vec::new()
        };
        let orgs: Vec<String> = if has(TargetKind::Organization) {
            let found = self.client.organizations().of_account(&a.account_id);
            found.all().await?.into_iter().map(|g| g.id).collect()
        } else {
            Vec::new()
        };
        let query = a
            .email
            .as_deref()
            .or_else(|| o.searched_email(i))
            .unwrap_or(&a.display_name);
        let mut member_of = Vec::new();
        for (t, view) in o.targets.iter().enumerate() {
            let member = match view.kind {
                TargetKind::Group => groups.iter().any(|g| g.eq_ignore_ascii_case(&view.name)),
                TargetKind::Organization => orgs.contains(&view.id),
                TargetKind::ServiceDesk => {
                    let listing = self.client.customers().list(&view.id).query(query);
                    let found = listing.all().await?;
                    found.iter().any(|c| c.account_id == a.account_id)
                }
            };
            if member {
                member_of.push(t);
            }
        }
        Ok(member_of)
    }
}
