//! The five paging shapes and how each asks for a page and reads its answer.

use jsm_proto::admin::AdminPage;
use jsm_proto::scim::ScimListResponse;
use jsm_proto::{JsmPage, PageBean};
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::transport::{Request, Response};

/// How an endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Jira `PageBean`: `startAt`/`maxResults` in, `values`/`isLast`/`total` out.
    PageBean,
    /// Jira bare array: `startAt`/`maxResults` in, `[...]` out; the only end signal is an empty page.
    /// `ceiling` is the offset past which the endpoint returns nothing (`user/search`: 1000).
    Array {
        /// Offset ceiling, if the endpoint has one.
        ceiling: Option<u64>,
    },
    /// JSM: `start`/`limit` in, `values`/`size`/`isLastPage` out (no total; a hidden per-endpoint cap).
    Jsm,
    /// SCIM: `startIndex` (1-based)/`count` in, `Resources`/`totalResults` out.
    Scim,
    /// Admin API: `cursor` in, `data`/`links.next` out.
    Cursor,
}

/// One page, normalized.
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    pub items: Vec<T>,
    /// Offset the server says this page starts at (0-based).
    pub start: Option<u64>,
    pub total: Option<u64>,
    /// Page size the server says it used.
    pub served_limit: Option<u64>,
    /// The server's explicit last-page flag.
    pub last: Option<bool>,
    /// Admin API: the next cursor.
    pub next_cursor: Option<String>,
}

impl Shape {
    /// Adds this shape's paging parameters to `req`.
    pub(crate) fn page_request(
        &self,
        base: &Request,
        offset: u64,
        size: u32,
        cursor: Option<&str>,
    ) -> Request {
        let req = base.clone();
        match self {
            Shape::PageBean | Shape::Array { .. } => {
                req.query("startAt", offset).query("maxResults", size)
            }
            Shape::Jsm => req.query("start", offset).query("limit", size),
            Shape::Scim => req.query("startIndex", offset + 1).query("count", size),
            Shape::Cursor => req.query_opt("cursor", cursor),
        }
    }

    /// Reads one page.
    pub(crate) fn read<T: DeserializeOwned>(&self, resp: &Response) -> Result<Fetched<T>> {
        Ok(match self {
            Shape::PageBean => {
                let p: PageBean<T> = resp.json()?;
                Fetched {
                    items: p.values,
                    start: Some(p.start_at),
                    total: p.total,
                    served_limit: Some(u64::from(p.max_results)).filter(|m| *m > 0),
                    last: p.is_last,
                    next_cursor: None,
                }
            }
            Shape::Array { .. } => {
                let items: Vec<T> = resp.json()?;
                Fetched {
                    items,
                    start: None,
                    total: None,
                    served_limit: None,
                    last: None,
                    next_cursor: None,
                }
            }
            Shape::Jsm => {
                let p: JsmPage<T> = resp.json()?;
                Fetched {
                    items: p.values,
                    start: Some(p.start),
                    total: None,
                    served_limit: Some(u64::from(p.limit)),
                    last: Some(p.is_last_page),
                    next_cursor: None,
                }
            }
            Shape::Scim => {
                let p: ScimListResponse<T> = resp.json()?;
                Fetched {
                    items: p.resources,
                    start: p.start_index.map(|s| s.saturating_sub(1)),
                    total: Some(p.total_results),
                    served_limit: p.items_per_page,
                    last: None,
                    next_cursor: None,
                }
            }
            Shape::Cursor => {
                let p: AdminPage<T> = resp.json()?;
                Fetched {
                    items: p.data,
                    start: None,
                    total: p.meta.and_then(|m| m.total),
                    served_limit: None,
                    last: None,
                    next_cursor: p.links.next.map(|n| cursor_of(&n)),
                }
            }
        })
    }
}

/// `links.next` is either a cursor or a URL with a `cursor` parameter.
fn cursor_of(next: &str) -> String {
    if let Ok(url) = url::Url::parse(next)
        && let Some((_, c)) = url.query_pairs().find(|(k, _)| k == "cursor")
    {
        return c.into_owned();
    }
    next.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_from_url_or_token() {
        assert_eq!(
            cursor_of("https://api.atlassian.com/admin/v1/orgs/o/users?cursor=abc%3D"),
            "abc="
        );
        assert_eq!(cursor_of("abc"), "abc");
    }
}
