//! The service's settings: lease and heartbeat timing, the webhook secret, and the schedules (cron-like, five
//! fields, UTC) that queue full and incremental reconciles and credential checks. Read from a versioned TOML file
//! with `deny_unknown_fields`; the environment and flags override it in `jsmctl serve`.

use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::jobs::Job;

/// Version of the serve config file.
pub const SERVE_CONFIG_VERSION: u32 = 1;

/// Settings of one `jsmctl serve` process.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The site the engine works on (its base URL); jobs for it share one lock and one rate budget.
    pub site: String,
    /// The identity source webhook-triggered reconciles read (`None` until one is configured).
    pub source: Option<String>,
    /// HMAC key of `X-Hub-Signature`; without one every webhook is refused.
    pub webhook_secret: Option<SecretString>,
    /// How long a claim lasts without a heartbeat; a dead worker's job is taken over after it.
    pub lease: Duration,
    /// How often a worker renews its lease and records its heartbeat.
    pub heartbeat: Duration,
    /// How long an idle worker waits before looking for work again.
    pub poll: Duration,
    /// How long a graceful shutdown lets the job in hand finish before releasing it to another worker.
    pub shutdown_grace: Duration,
    /// Claims of one job (takeovers included) before it fails.
    pub max_attempts: u32,
    /// How long a page session lasts.
    pub session_ttl: Duration,
    /// Mark cookies `Secure` (off only for plain-HTTP loopback use, as in tests).
    pub secure_cookies: bool,
    /// Run a worker in this process (the HTTP side runs either way).
    pub run_worker: bool,
    /// This worker's id, unique among the workers on one database.
    pub worker_id: String,
    /// Credentials expiring within this many days are warned about.
    pub credential_warn_days: u32,
    /// What the scheduler queues.
    pub schedules: Vec<Schedule>,
    /// The identity sources reconciles read (`[[sources]]`).
    pub sources: Vec<jsm_sources::SourceConfig>,
    /// Largest request body accepted, webhooks included.
    pub max_body_bytes: usize,
}

impl ServeConfig {
    /// Defaults for a site: 15 s lease, 3 s heartbeat, 8 h sessions, secure cookies, a worker.
    pub fn new(site: impl Into<String>, worker_id: impl Into<String>) -> Self {
        Self {
            site: site.into(),
            source: None,
            webhook_secret: None,
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(3),
            poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(10),
            max_attempts: 5,
            session_ttl: Duration::from_secs(8 * 3600),
            secure_cookies: true,
            run_worker: true,
            worker_id: worker_id.into(),
            credential_warn_days: 30,
            schedules: Vec::new(),
            sources: Vec::new(),
            // A plan file of a few thousand items is a few MiB; webhooks are small.
            max_body_bytes: 8 * 1024 * 1024,
        }
    }

    /// The lock key of jobs that change this site: at most one runs at a time across all workers.
    pub fn site_lock(&self) -> String {
        format!("site:{}", self.site)
    }
}

/// One schedule: when, and what to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Unique name; with the due minute it keys the firing, so several workers queue it once.
    pub name: String,
    /// When it fires.
    pub cron: Cron,
    /// What it queues.
    pub job: Job,
}

/// The serve config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeFile {
    /// Must be [`SERVE_CONFIG_VERSION`].
    pub version: u32,
    /// The identity source webhook-triggered reconciles read.
    pub source: Option<String>,
    /// Lease length in seconds.
    pub lease_seconds: Option<u64>,
    /// Heartbeat interval in seconds.
    pub heartbeat_seconds: Option<u64>,
    /// Credentials expiring within this many days are warned about.
    pub credential_warn_days: Option<u32>,
    /// Session length in hours.
    pub session_hours: Option<u64>,
    /// The webhook secret (`JSMCTL_WEBHOOK_SECRET` wins); `jsmctl serve` reads a file holding it only when no
    /// one else can read the file.
    pub webhook_secret: Option<SecretString>,
    /// Schedules.
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<ScheduleFile>,
    /// Identity sources (`[[sources]]`: name, spec, mapping).
    #[serde(default)]
    pub sources: Vec<jsm_sources::SourceConfig>,
}

/// A `[[schedule]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    /// Unique name.
    pub name: String,
    /// Five cron fields, UTC: minute hour day-of-month month day-of-week (`*`, `*/n`, `a-b`, `a,b`).
    pub cron: String,
    /// What to queue: `reconcile` (full), `reconcile_person`, `credential_check`.
    pub job: String,
    /// Source of a reconcile (default: the top-level `source`).
    pub source: Option<String>,
    /// Account id of a `reconcile_person`.
    pub person: Option<String>,
}

impl ServeFile {
    /// Parses a serve config; errors name the file, the key and the line.
    pub fn parse(text: &str, path: &str) -> Result<Self> {
        let file: ServeFile = toml::from_str(text)
            .map_err(|e| Error::BadRequest(format!("{path}: {}", e.to_string().trim_end())))?;
        if file.version != SERVE_CONFIG_VERSION {
            return Err(Error::BadRequest(format!(
                "{path}: version = {} is not supported (this jsmctl reads version {SERVE_CONFIG_VERSION})",
                file.version
            )));
        }
        Ok(file)
    }

    /// Applies the file over `config`.
    pub fn apply(self, config: &mut ServeConfig, path: &str) -> Result<()> {
        if let Some(s) = self.source {
            config.source = Some(s);
        }
        if let Some(s) = self.lease_seconds {
            config.lease = Duration::from_secs(s.max(1));
        }
        if let Some(s) = self.heartbeat_seconds {
            config.heartbeat = Duration::from_secs(s.max(1));
        }
        if config.heartbeat >= config.lease {
            return Err(Error::BadRequest(format!(
                "{path}: heartbeat_seconds must be shorter than lease_seconds"
            )));
        }
        if let Some(d) = self.credential_warn_days {
            config.credential_warn_days = d;
        }
        if let Some(h) = self.session_hours {
            config.session_ttl = Duration::from_secs(h.max(1) * 3600);
        }
        if let Some(secret) = self
            .webhook_secret
            .filter(|s| !secrecy::ExposeSecret::expose_secret(s).is_empty())
        {
            config.webhook_secret = Some(secret);
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.sources {
            if !seen.insert(s.name.clone()) {
                return Err(Error::BadRequest(format!(
                    "{path}: sources: {:?} is named twice",
                    s.name
                )));
            }
        }
        config.sources = self.sources;
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.schedules.into_iter().enumerate() {
            let at = format!("{path}: schedule[{i}] ({})", s.name);
            if !names.insert(s.name.clone()) {
                return Err(Error::BadRequest(format!("{at}: the name is used twice")));
            }
            let cron =
                Cron::parse(&s.cron).map_err(|e| Error::BadRequest(format!("{at}: cron: {e}")))?;
            let source = s.source.clone().or_else(|| config.source.clone());
            let job = match s.job.as_str() {
                "credential_check" => Job::CredentialCheck,
                "reconcile" | "reconcile_person" => {
                    let Some(source) = source else {
                        return Err(Error::BadRequest(format!(
                            "{at}: a reconcile needs a source (here or at the top level)"
                        )));
                    };
                    let person = if s.job == "reconcile_person" {
                        Some(s.person.clone().ok_or_else(|| {
                            Error::BadRequest(format!("{at}: reconcile_person needs person"))
                        })?)
                    } else {
                        None
                    };
                    Job::Reconcile {
                        site: config.site.clone(),
                        source,
                        person,
                    }
                }
                other => {
                    return Err(Error::BadRequest(format!(
                        "{at}: job {other:?} is not one of reconcile, reconcile_person, credential_check"
                    )));
                }
            };
            config.schedules.push(Schedule {
                name: s.name,
                cron,
                job,
            });
        }
        Ok(())
    }
}

/// A five-field cron expression (minute, hour, day of month, month, day of week; UTC). As in cron, when both
/// day fields are restricted a day matching either fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    days_any: bool,
    weekdays_any: bool,
}

fn field(text: &str, lo: u32, hi: u32, name: &str) -> std::result::Result<Vec<bool>, String> {
    let mut set = vec![false; (hi + 1) as usize];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("{name}: step {s:?} is not a number"))?;
                if step == 0 {
                    return Err(format!("{name}: step must be at least 1"));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let a: u32 = a
                .parse()
                .map_err(|_| format!("{name}: {a:?} is not a number"))?;
            let b: u32 = b
                .parse()
                .map_err(|_| format!("{name}: {b:?} is not a number"))?;
            (a, b)
        } else {
            let a: u32 = range
                .parse()
                .map_err(|_| format!("{name}: {range:?} is not a number"))?;
            (a, if part.contains('/') { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return Err(format!("{name}: {part:?} is outside {lo}-{hi}"));
        }
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok(set)
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week` (day of week 0-7, 0 and 7 Sunday).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [mi, h, d, mo, w] = parts.as_slice() else {
            return Err(format!("{text:?} needs five fields, has {}", parts.len()));
        };
        let mut weekdays = field(w, 0, 7, "day of week")?;
        if weekdays[7] {
            weekdays[0] = true;
        }
        Ok(Self {
            text: text.to_string(),
            minutes: field(mi, 0, 59, "minute")?,
            hours: field(h, 0, 23, "hour")?,
            days: field(d, 1, 31, "day of month")?,
            months: field(mo, 1, 12, "month")?,
            weekdays,
            days_any: *d == "*",
            weekdays_any: *w == "*",
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the minute containing `t` fires.
    pub fn matches(&self, t: DateTime<Utc>) -> bool {
        let day = self.days[t.day() as usize];
        let weekday = self.weekdays[t.weekday().num_days_from_sunday() as usize];
        let day_ok = match (self.days_any, self.weekdays_any) {
            (true, true) => true,
            (false, true) => day,
            (true, false) => weekday,
            (false, false) => day || weekday,
        };
        self.minutes[t.minute() as usize]
            && self.hours[t.hour() as usize]
            && self.months[t.month() as usize]
            && day_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn cron_fields() {
        let every_15 = Cron::parse("*/15 * * * *").unwrap();
        assert!(every_15.matches(t("2026-03-02T10:30:59Z")));
        assert!(!every_15.matches(t("2026-03-02T10:31:00Z")));
        let nightly = Cron::parse("0 2 * * 1-5").unwrap();
        assert!(nightly.matches(t("2026-03-02T02:00:00Z")), "a Monday");
        assert!(!nightly.matches(t("2026-03-01T02:00:00Z")), "a Sunday");
        let sunday = Cron::parse("0 0 * * 7").unwrap();
        assert!(sunday.matches(t("2026-03-01T00:00:00Z")));
        let either = Cron::parse("0 0 1 * 1").unwrap();
        assert!(
            either.matches(t("2026-03-02T00:00:00Z")),
            "a Monday, not the 1st"
        );
        assert!(
            either.matches(t("2026-04-01T00:00:00Z")),
            "the 1st, a Wednesday"
        );
        assert!(!either.matches(t("2026-03-03T00:00:00Z")));
        for bad in [
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_schedules_and_errors() {
        let text = r#"
            version = 1
            source = "hr"
            lease_seconds = 20
            webhook_secret = "s3cret-in-file"
            [[schedule]]
            name = "nightly"
            cron = "0 2 * * *"
            job = "reconcile"
            [[schedule]]
            name = "tokens"
            cron = "0 * * * *"
            job = "credential_check"
        "#;
        let mut config = ServeConfig::new("https://acme.atlassian.net", "w1");
        ServeFile::parse(text, "serve.toml")
            .unwrap()
            .apply(&mut config, "serve.toml")
            .unwrap();
        assert_eq!(config.lease, Duration::from_secs(20));
        assert!(
            !format!("{config:?}").contains("s3cret-in-file"),
            "the secret stays out of Debug"
        );
        assert!(config.webhook_secret.is_some());
        assert_eq!(config.schedules.len(), 2);
        assert_eq!(
            config.schedules[0].job,
            Job::Reconcile {
                site: "https://acme.atlassian.net".into(),
                source: "hr".into(),
                person: None
            }
        );
        let unknown = ServeFile::parse("version = 1\nleese_seconds = 3\n", "s.toml").unwrap_err();
        assert!(unknown.to_string().contains("leese_seconds"), "{unknown}");
        let no_source =
            "version = 1\n[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\njob = \"reconcile\"\n";
        let mut config = ServeConfig::new("s", "w");
        let err = ServeFile::parse(no_source, "s.toml")
            .unwrap()
            .apply(&mut config, "s.toml")
            .unwrap_err();
        assert!(err.to_string().contains("needs a source"), "{err}");
    }
}
