use jsm_proto::{JsmPage, JsmPageLinks, PageBean};

use super::{ApiError, Ctx};

/// A page request after defaults and the endpoint's cap were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageArgs {
    /// Index of the first item.
    pub start: u64,
    /// Page size the client asked for.
    pub asked: u64,
    /// Page size served: the ask, silently lowered to the cap.
    pub size: u64,
}

impl PageArgs {
    /// Jira's `startAt`/`maxResults`.
    pub fn jira(ctx: &Ctx, default: u64, cap: u64) -> Result<Self, ApiError> {
        Self::read(ctx, "startAt", "maxResults", default, cap)
    }

    /// JSM's `start`/`limit`.
    pub fn jsm(ctx: &Ctx, default: u64, cap: u64) -> Result<Self, ApiError> {
        Self::read(ctx, "start", "limit", default, cap)
    }

    fn read(ctx: &Ctx, start: &str, size: &str, default: u64, cap: u64) -> Result<Self, ApiError> {
        let asked = ctx.params.number(size, default)?;
        Ok(Self {
            start: ctx.params.number(start, 0)?,
            asked,
            size: asked.min(cap),
        })
    }

    /// The slice of `all` this page covers.
    pub fn window<'a, T>(&self, all: &'a [T]) -> &'a [T] {
        let start = (self.start as usize).min(all.len());
        let end = start.saturating_add(self.size as usize).min(all.len());
        &all[start..end]
    }
}

/// A Jira `PageBean` over `values`, the window of `total` items; `nextPage` only when more exist.
pub fn jira_page<T>(ctx: &Ctx, args: PageArgs, values: Vec<T>, total: u64) -> PageBean<T> {
    let next_start = args.start + values.len() as u64;
    let is_last = next_start >= total || values.is_empty();
    PageBean {
        self_url: Some(ctx.self_url()),
        next_page: (!is_last).then(|| {
            ctx.url_with(&[
                ("startAt", next_start.to_string()),
                ("maxResults", args.size.to_string()),
            ])
        }),
        max_results: args.size as u32,
        start_at: args.start,
        total: Some(total),
        is_last: Some(is_last),
        values,
    }
}

/// A JSM page: `limit` echoes the ask even when the hidden cap served fewer; no total.
pub fn jsm_page<T>(ctx: &Ctx, args: PageArgs, values: Vec<T>, total: u64) -> JsmPage<T> {
    let next_start = args.start + values.len() as u64;
    let is_last_page = next_start >= total || values.is_empty();
    let link = |start: u64| {
        ctx.url_with(&[
            ("start", start.to_string()),
            ("limit", args.asked.to_string()),
        ])
    };
    JsmPage {
        expands: Vec::new(),
        size: values.len() as u32,
        start: args.start,
        limit: args.asked as u32,
        is_last_page,
        links: JsmPageLinks {
            base: Some(format!("{}/rest/servicedeskapi", ctx.base)),
            context: Some(String::new()),
            next: (!is_last_page).then(|| link(next_start)),
            prev: (args.start > 0).then(|| link(args.start.saturating_sub(args.asked))),
        },
        values,
    }
}
