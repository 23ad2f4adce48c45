//! One pager for every paging shape. It yields items as a `Stream`, ends only on the server's own end signal
//! (never on `size < limit`), advances by what the server actually returned (so silent and hidden caps cost
//! pages, not items), and treats a moving total, an item repeated across pages, a page that does not start where
//! asked, or an empty page that is not the last as an inconsistency: it restarts the listing (yielding only
//! items not yet yielded) up to `max_restarts` times, then ends with [`Error::Truncated`]. An endpoint ceiling
//! (`user/search`'s 1000) ends with `Truncated` too. Items are never dropped silently.

mod shape;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

pub use shape::Shape;

use crate::Client;
use crate::error::{Error, Result, TruncationReason};
use crate::observer::Event;
use crate::transport::Request;

type KeyFn<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;
type FilterFn<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// A listing that can be streamed item by item or collected.
pub struct Pager<T> {
    client: Client,
    request: Request,
    shape: Shape,
    key: KeyFn<T>,
    filter: Option<FilterFn<T>>,
    page_size: u32,
    max_restarts: u32,
    max_pages: u32,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("endpoint", &self.request.endpoint())
            .field("shape", &self.shape)
            .field("page_size", &self.page_size)
            .field("max_restarts", &self.max_restarts)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pager<T> {
    /// A pager over `request` (without paging parameters) that identifies items by `key`.
    pub fn new(
        client: Client,
        request: Request,
        shape: Shape,
        page_size: u32,
        key: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            client,
            request,
            shape,
            key: Arc::new(key),
            filter: None,
            page_size: page_size.max(1),
            max_restarts: 2,
            max_pages: 100_000,
        }
    }

    /// Page size to ask for (the server may serve fewer; that is handled).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// How many times an inconsistent listing is restarted before `Truncated` (default 2; 0 fails at once).
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = n;
        self
    }

    /// Upper bound on pages fetched (default 100 000).
    pub fn max_pages(mut self, n: u32) -> Self {
        self.max_pages = n.max(1);
        self
    }

    /// Keeps only items matching `f` (applied after de-duplication).
    pub(crate) fn filter(mut self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(f));
        self
    }

    /// The items as a stream; a final `Err` means the listing could not be completed or proven complete.
    pub fn into_stream(self) -> BoxStream<'static, Result<T>> {
        let state = State {
            pager: self,
            buffer: VecDeque::new(),
            pending_error: None,
            done: false,
            offset: 0,
            cursor: None,
            pass_total: None,
            pass_seen: HashSet::new(),
            yielded_keys: HashSet::new(),
            yielded: 0,
            restarts: 0,
            pages: 0,
            cap_reported: false,
        };
        futures::stream::try_unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffer.pop_front() {
                    st.yielded += 1;
                    return Ok(Some((item, st)));
                }
                if let Some(err) = st.pending_error.take() {
                    return Err(err);
                }
                if st.done {
                    return Ok(None);
                }
                st.fetch_page().await?;
            }
        })
        .boxed()
    }

    /// Collects every item, or fails.
    pub async fn all(self) -> Result<Vec<T>> {
        self.into_stream().try_collect().await
    }
}

struct State<T> {
    pager: Pager<T>,
    buffer: VecDeque<T>,
    pending_error: Option<Error>,
    done: bool,
    offset: u64,
    cursor: Option<String>,
    pass_total: Option<u64>,
    pass_seen: HashSet<String>,
    yielded_keys: HashSet<String>,
    yielded: u64,
    restarts: u32,
    pages: u32,
    cap_reported: bool,
}

impl<T: DeserializeOwned + Send + 'static> State<T> {
    fn truncated(&mut self, reason: TruncationReason) {
        let yielded = self.yielded + self.buffer.len() as u64;
        tracing::warn!(endpoint = %self.pager.request.endpoint(), %reason, yielded, "listing truncated");
        self.pending_error = Some(Error::Truncated { reason, yielded });
        self.done = true;
    }

    /// An inconsistency: restart the pass if allowed, else end with `Truncated`.
    fn inconsistent(&mut self, reason: TruncationReason) {
        if self.restarts < self.pager.max_restarts {
            self.restarts += 1;
            tracing::info!(endpoint = %self.pager.request.endpoint(), %reason, restart = self.restarts, "listing changed while paging; restarting");
            self.pager
                .client
                .inner
                .observer
                .on_event(&Event::PagerRestarted {
                    class: self.pager.request.class.to_string(),
                    reason: reason.to_string(),
                });
            self.offset = 0;
            self.cursor = None;
            self.pass_total = None;
            self.pass_seen.clear();
        } else {
            self.truncated(reason);
        }
    }

    async fn fetch_page(&mut self) -> Result<()> {
        let shape = self.pager.shape;
        if self.pages >= self.pager.max_pages {
            self.truncated(TruncationReason::TooManyPages {
                pages: self.pager.max_pages,
            });
            return Ok(());
        }
        if let Shape::Array {
            ceiling: Some(limit),
        } = shape
            && self.offset >= limit
        {
            self.truncated(TruncationReason::Ceiling { limit });
            return Ok(());
        }
        self.pages += 1;
        let asked = self.offset;
        let size = self.pager.page_size;
        let req = shape.page_request(&self.pager.request, asked, size, self.cursor.as_deref());
        let resp = self.pager.client.execute(&req).await?;
        let page = shape.read::<T>(&resp)?;
        let count = page.items.len() as u64;

        if let Some(start) = page.start
            && start != asked
            && shape != Shape::Cursor
        {
            self.inconsistent(TruncationReason::OffsetMismatch { asked, got: start });
            return Ok(());
        }
        if let Some(total) = page.total {
            match self.pass_total {
                None => self.pass_total = Some(total),
                Some(first) if first != total => {
                    self.accept(page.items);
                    self.inconsistent(TruncationReason::MovingTotal { first, now: total });
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        let served_limit = page.served_limit;
        if let Some(dup) = self.accept(page.items) {
            self.inconsistent(TruncationReason::Duplicate { key: dup });
            return Ok(());
        }
        self.offset = asked + count;

        let stalled = TruncationReason::Stalled { offset: asked };
        match shape {
            Shape::PageBean => match (page.last, page.total) {
                (Some(true), _) => self.done = true,
                (Some(false), _) if count == 0 => self.inconsistent(stalled),
                (Some(false), _) => {}
                (None, Some(total)) if self.offset >= total => self.done = true,
                (None, Some(_)) if count == 0 => self.inconsistent(stalled),
                (None, Some(_)) => {}
                (None, None) => self.done = count == 0,
            },
            Shape::Array { ceiling } => {
                if count == 0 {
                    match ceiling {
                        Some(limit) if asked >= limit => {
                            self.truncated(TruncationReason::Ceiling { limit })
                        }
                        _ => self.done = true,
                    }
                }
            }
            Shape::Jsm => match page.last {
                Some(true) => self.done = true,
                _ if count == 0 => self.inconsistent(stalled),
                _ => {}
            },
            Shape::Scim => {
                let total = page.total.unwrap_or(0);
                if self.offset >= total {
                    self.done = true;
                } else if count == 0 {
                    self.inconsistent(stalled);
                }
            }
            Shape::Cursor => match page.next_cursor {
                None => self.done = true,
                Some(next) if count == 0 && self.cursor.as_deref() == Some(next.as_str()) => {
                    self.inconsistent(stalled)
                }
                Some(next) => self.cursor = Some(next),
            },
        }
        let size64 = u64::from(size);
        let more = !self.done && self.offset > asked;
        if more
            && !self.cap_reported
            && (count < size64 || served_limit.is_some_and(|s| s < size64))
        {
            // A silent (Jira `maxResults`) or hidden (JSM) cap: harmless, because we advance by what was served.
            self.cap_reported = true;
            let served = u32::try_from(count).unwrap_or(u32::MAX);
            tracing::debug!(endpoint = %self.pager.request.endpoint(), asked = size, served, "server capped the page size");
            self.pager
                .client
                .inner
                .observer
                .on_event(&Event::PageCapped {
                    class: self.pager.request.class.to_string(),
                    asked: size,
                    served,
                });
        }
        Ok(())
    }

    /// Buffers the items not yet yielded; returns the key of an item repeated within this pass, if any.
    fn accept(&mut self, items: Vec<T>) -> Option<String> {
        let mut duplicate = None;
        for item in items {
            let key = (self.pager.key)(&item);
            if !self.pass_seen.insert(key.clone()) {
                duplicate.get_or_insert(key);
                continue;
            }
            if !self.yielded_keys.insert(key) {
                continue;
            }
            if self.pager.filter.as_ref().is_none_or(|f| f(&item)) {
                self.buffer.push_back(item);
            }
        }
        duplicate
    }
}
