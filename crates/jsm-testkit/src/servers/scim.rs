//! PyPI `scim2-server` from `JSMCTL_SCIM2_SERVER`, in memory, behind a static bearer token, seeded over SCIM
//! itself: users and groups created, replaced, patched and deleted as an IdP would.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::process::{ChildGuard, executable_from_env, must, start_on_free_port};

/// The bearer token the server accepts.
pub const TOKEN: &str = "testkit-scim2-token-3b7f0c";
/// How long the server may take to answer (it imports pydantic at start; slow on a loaded machine).
const START_LIMIT: Duration = Duration::from_secs(60);
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A running scim2-server; dropping it stops the process.
#[derive(Debug)]
pub struct ScimServer {
    _guard: ChildGuard,
    _dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
}

impl ScimServer {
    /// Starts scim2-server, or prints a notice and returns none when `JSMCTL_SCIM2_SERVER` is unset.
    pub async fn start(test: &str) -> Option<Self> {
        let exe = executable_from_env("JSMCTL_SCIM2_SERVER", test)?;
        let dir = must(tempfile::tempdir(), || "make a temp dir".into());
        let http = reqwest::Client::new();
        let spawn = |port: u16, log| {
            let mut command = std::process::Command::new(&exe);
            command
                .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
                .args(["--bearer-token", TOKEN]);
            ChildGuard::spawn("scim2-server", &mut command, log)
        };
        let up = |port: u16| {
            let (http, url) = (
                http.clone(),
                format!("{}/ServiceProviderConfig", base(port)),
            );
            async move {
                http.get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        };
        let (guard, port) =
            start_on_free_port("scim2-server", dir.path(), START_LIMIT, spawn, up).await;
        Some(Self {
            _guard: guard,
            _dir: dir,
            base: base(port),
            http,
        })
    }

    /// The SCIM base URL, `http://127.0.0.1:PORT/v2`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The source spec of this server, `scim:BASE`.
    pub fn spec(&self) -> String {
        format!("scim:{}", self.base)
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &'static str {
        TOKEN
    }

    /// A SCIM request for `path` under the base URL; fails the test unless the server answers 2xx, and returns
    /// the JSON answer (null for an empty one).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/{path}", self.base))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/scim+json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = must(req.send().await, || format!("{method} {path}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates a user from `body` (the core User schema is added) and returns its id.
    pub async fn add_user(&self, body: Value) -> String {
        let created = self
            .send(Method::POST, "Users", Some(with_schema(body, USER_SCHEMA)))
            .await;
        id_of(&created)
    }

    /// Replaces user `id` with `body` (PUT; the core User schema is added).
    pub async fn replace_user(&self, id: &str, body: Value) {
        self.send(
            Method::PUT,
            &format!("Users/{id}"),
            Some(with_schema(body, USER_SCHEMA)),
        )
        .await;
    }

    /// Creates a group with these member ids (users or groups) and returns its id.
    pub async fn add_group(&self, name: &str, members: &[&str]) -> String {
        let created = self
            .send(Method::POST, "Groups", Some(group(name, members)))
            .await;
        id_of(&created)
    }

    /// Replaces group `id`: its name and every member (PUT).
    pub async fn replace_group(&self, id: &str, name: &str, members: &[&str]) {
        self.send(
            Method::PUT,
            &format!("Groups/{id}"),
            Some(group(name, members)),
        )
        .await;
    }

    /// Applies PATCH `operations` (a JSON array) to the resource at `path` (`Users/ID`, `Groups/ID`).
    pub async fn patch(&self, path: &str, operations: Value) {
        let body = json!({ "schemas": [PATCH_SCHEMA], "Operations": operations });
        self.send(Method::PATCH, path, Some(body)).await;
    }

    /// Deletes the resource at `path` (`Users/ID`, `Groups/ID`).
    pub async fn delete(&self, path: &str) {
        self.send(Method::DELETE, path, None).await;
    }
}

fn base(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v2")
}

fn with_schema(mut body: Value, schema: &str) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.entry("schemas").or_insert_with(|| json!([schema]));
    }
    body
}

fn group(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({ "schemas": [GROUP_SCHEMA], "displayName": name, "members": members })
}

fn id_of(resource: &Value) -> String {
    match resource["id"].as_str() {
        Some(id) => id.to_owned(),
        None => panic!("testkit: scim2-server answered without an id: {resource}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::process::listening;

    #[tokio::test]
    async fn scim2_server_is_seeded_over_scim_and_stops_when_dropped() {
        let Some(server) =
            ScimServer::start("scim2_server_is_seeded_over_scim_and_stops_when_dropped").await
        else {
            return;
        };
        let id = server
            .add_user(json!({ "userName": "ann", "displayName": "Ann" }))
            .await;
        server
            .replace_user(&id, json!({ "userName": "ann", "displayName": "Ann Lee" }))
            .await;
        let group = server.add_group("Staff", &[&id]).await;
        let read = server.send(Method::GET, &format!("Users/{id}"), None).await;
        assert_eq!(read["displayName"], "Ann Lee");
        let staff = server
            .send(Method::GET, &format!("Groups/{group}"), None)
            .await;
        assert_eq!(staff["members"][0]["value"], id.as_str());
        server.replace_group(&group, "Staff", &[]).await;
        server.delete(&format!("Users/{id}")).await;
        let users = server.send(Method::GET, "Users", None).await;
        assert_eq!(users["totalResults"], 0);

        let unauthenticated = reqwest::get(format!("{}/Users", server.base()))
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), 401, "the token is required");
        let port: u16 = server
            .base()
            .trim_end_matches("/v2")
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        drop(server);
        assert!(!listening(port).await, "the guard stopped scim2-server");
    }
}
