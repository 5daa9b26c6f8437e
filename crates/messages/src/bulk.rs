//! Sending one message to any number of members: chunks of 1000, an optional client-side
//! per-member limit, progress reports and one combined receipt.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wecom_core_auth::{Client, Endpoint, Error};

use crate::generated::messages::MessageSendRequest;

use crate::message::{Message, send_request};
use crate::recipients::Recipients;

/// WeCom's limit on `touser`: members per `message/send`.
pub const MAX_MEMBERS_PER_SEND: usize = 1000;

/// A client-side limit on how many messages one app sends to one member, so that nothing is
/// dropped silently: WeCom delivers at most 30 messages a minute and 1000 an hour from one app to
/// one member and discards the excess without an error.
///
/// Clone it to share it between senders (it is an `Arc` inside); keep one per process and app.
#[derive(Clone)]
pub struct MemberLimiter {
    inner: Arc<Mutex<LimiterState>>,
}

struct LimiterState {
    /// (at most, within) pairs.
    limits: Vec<(usize, Duration)>,
    /// Send times per (agentid, userid), oldest first, kept for the longest window.
    sent: HashMap<(u32, String), VecDeque<Instant>>,
}

impl fmt::Debug for MemberLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("MemberLimiter")
            .field("limits", &state.limits)
            .field("members", &state.sent.len())
            .finish()
    }
}

impl Default for MemberLimiter {
    fn default() -> Self {
        Self::wecom()
    }
}

impl MemberLimiter {
    /// WeCom's limits: 30 messages a minute and 1000 an hour per member and app.
    pub fn wecom() -> Self {
        Self::new([
            (30, Duration::from_secs(60)),
            (1000, Duration::from_secs(3600)),
        ])
    }

    /// Custom limits: `(at most n, within window)` pairs, all applying at once (`n` is at
    /// least 1; a zero window is ignored).
    pub fn new(limits: impl IntoIterator<Item = (usize, Duration)>) -> Self {
        let limits = limits
            .into_iter()
            .filter(|(_, w)| !w.is_zero())
            .map(|(n, w)| (n.max(1), w))
            .collect();
        Self {
            inner: Arc::new(Mutex::new(LimiterState {
                limits,
                sent: HashMap::new(),
            })),
        }
    }

    /// Counts one message to `userid` from app `agentid` at `now` if every limit allows it;
    /// otherwise returns the earliest instant at which it would.
    pub fn try_admit(&self, agentid: u32, userid: &str, now: Instant) -> Result<(), Instant> {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let longest = state
            .limits
            .iter()
            .map(|(_, w)| *w)
            .max()
            .unwrap_or_default();
        let limits = state.limits.clone();
        let times = state
            .sent
            .entry((agentid, userid.to_ascii_lowercase()))
            .or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= longest)
        {
            times.pop_front();
        }
        let mut earliest: Option<Instant> = None;
        for (max, window) in limits {
            let inside: Vec<&Instant> = times
                .iter()
                .filter(|t| now.duration_since(**t) < window)
                .collect();
            if inside.len() >= max {
                // The send that must leave the window before another fits.
                let leaving = inside.len() - max;
                let at = *inside[leaving] + window;
                earliest = Some(earliest.map_or(at, |e| e.max(at)));
            }
        }
        match earliest {
            Some(at) => Err(at),
            None => {
                times.push_back(now);
                Ok(())
            }
        }
    }
}

/// What to do with members the [`MemberLimiter`] holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverLimit {
    /// Wait until the limit lets them through, then send (default).
    #[default]
    Wait,
    /// Leave them out and list them in [`BulkReceipt::rate_limited`].
    Skip,
}

/// Where a bulk send stands; passed to the progress callback after every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkProgress {
    /// Distinct members to send to.
    pub members_total: usize,
    /// Members whose chunk has been sent (successfully or not).
    pub members_sent: usize,
    /// Members skipped by the per-member limit.
    pub members_skipped: usize,
    /// `message/send` calls made.
    pub chunks_sent: usize,
    /// Of which failed.
    pub chunks_failed: usize,
}

/// A chunk whose `message/send` failed.
#[derive(Debug)]
pub struct ChunkFailure {
    /// The members of the chunk (none of them is known to have received the message).
    pub members: Vec<String>,
    /// Why.
    pub error: Error,
}

/// The combined receipt of a bulk send.
#[derive(Debug, Default)]
pub struct BulkReceipt {
    /// The msgid of every successful chunk (each can be recalled).
    pub msgids: Vec<String>,
    /// Members WeCom rejected (unknown or outside the app's visible scope).
    pub invalid_users: Vec<String>,
    /// Members without an API licence.
    pub unlicensed_users: Vec<String>,
    /// Members left out by the per-member limit ([`OverLimit::Skip`]).
    pub rate_limited: Vec<String>,
    /// Chunks that failed.
    pub failures: Vec<ChunkFailure>,
    /// Final progress.
    pub progress: BulkProgress,
}

impl BulkReceipt {
    /// Whether every member received the message.
    pub fn is_complete(&self) -> bool {
        self.invalid_users.is_empty()
            && self.unlicensed_users.is_empty()
            && self.rate_limited.is_empty()
            && self.failures.is_empty()
    }

    /// Members of failed chunks (to retry later).
    pub fn failed_members(&self) -> impl Iterator<Item = &str> {
        self.failures
            .iter()
            .flat_map(|f| f.members.iter().map(String::as_str))
    }
}

type ProgressFn<'a> = Box<dyn FnMut(&BulkProgress) + Send + 'a>;

/// Sends one [`Message`] to any number of members, 1000 per `message/send`.
///
/// ```no_run
/// use wecom_messages::{BulkSender, MemberLimiter, Message};
/// # async fn demo(client: &wecom_core_auth::Client, userids: Vec<String>) -> Result<(), wecom_core_auth::Error> {
/// let limiter = MemberLimiter::wecom(); // keep one per app, reuse it across sends
/// let receipt = BulkSender::new(client, Message::text("Quarterly report is out"))
///     .members(userids)
///     .limiter(limiter.clone())
///     .on_progress(|p| println!("{}/{} members", p.members_sent, p.members_total))
///     .send()
///     .await?;
/// println!("{} chunks, {} invalid users, {} failed chunks", receipt.msgids.len(), receipt.invalid_users.len(), receipt.failures.len());
/// # Ok(()) }
/// ```
pub struct BulkSender<'a> {
    client: &'a Client,
    message: Message,
    members: Vec<String>,
    chunk: usize,
    limiter: Option<MemberLimiter>,
    over_limit: OverLimit,
    agentid: Option<u32>,
    progress: Option<ProgressFn<'a>>,
}

impl fmt::Debug for BulkSender<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkSender")
            .field("message", &self.message.msgtype())
            .field("members", &self.members.len())
            .field("chunk", &self.chunk)
            .field("limiter", &self.limiter)
            .field("over_limit", &self.over_limit)
            .finish_non_exhaustive()
    }
}

impl<'a> BulkSender<'a> {
    /// A bulk send of `message` through `client` (from its selected app).
    pub fn new(client: &'a Client, message: Message) -> Self {
        Self {
            client,
            message,
            members: Vec::new(),
            chunk: MAX_MEMBERS_PER_SEND,
            limiter: None,
            over_limit: OverLimit::Wait,
            agentid: None,
            progress: None,
        }
    }

    /// Adds members (duplicates are sent to once).
    pub fn members<I, S>(mut self, userids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.members.extend(userids.into_iter().map(Into::into));
        self
    }

    /// Members per `message/send` (1 to 1000, default 1000).
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk = n.clamp(1, MAX_MEMBERS_PER_SEND);
        self
    }

    /// Applies a client-side per-member limit (see [`MemberLimiter`]).
    pub fn limiter(mut self, limiter: MemberLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// What to do with members the limiter holds back (default: wait for them).
    pub fn over_limit(mut self, policy: OverLimit) -> Self {
        self.over_limit = policy;
        self
    }

    /// Sends from this app instead of the client's selected one.
    pub fn agentid(mut self, agentid: u32) -> Self {
        self.agentid = Some(agentid);
        self
    }

    /// Called after every chunk.
    pub fn on_progress(mut self, f: impl FnMut(&BulkProgress) + Send + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Sends. Fails before any request when the message breaks a limit or no app is selected;
    /// otherwise every chunk is attempted and the outcome of each is in the [`BulkReceipt`].
    pub async fn send(mut self) -> Result<BulkReceipt, Error> {
        let mut seen = HashSet::new();
        let members: Vec<String> = std::mem::take(&mut self.members)
            .into_iter()
            .filter(|m| seen.insert(m.clone()))
            .collect();
        let mut receipt = BulkReceipt {
            progress: BulkProgress {
                members_total: members.len(),
                ..BulkProgress::default()
            },
            ..BulkReceipt::default()
        };
        if members.is_empty() {
            return Ok(receipt);
        }
        // One request checked up front: a bad message fails here, before any I/O.
        let mut outgoing = self
            .message
            .clone()
            .to(Recipients::users(members.iter().take(self.chunk).cloned()));
        if let Some(a) = self.agentid {
            outgoing = outgoing.agentid(a);
        }
        let template = outgoing.request(self.client)?;
        <MessageSendRequest as Endpoint>::validate(&template)?;
        crate::rules::check_send(&template)
            .map_err(|e| Error::from(e.in_context("message_send")))?;
        let agentid = template.agentid;
        let other;
        let client = if client_needs_switch(self.client, agentid) {
            other = self.client.agent(agentid)?;
            &other
        } else {
            self.client
        };

        let mut pending: Vec<String> = members;
        while !pending.is_empty() {
            let mut chunk: Vec<String> = Vec::with_capacity(self.chunk);
            let mut deferred: Vec<String> = Vec::new();
            let mut wake: Option<Instant> = None;
            for userid in pending.drain(..) {
                let admitted = match &self.limiter {
                    None => Ok(()),
                    Some(l) => l.try_admit(agentid, &userid, Instant::now()),
                };
                match admitted {
                    Ok(()) => {
                        chunk.push(userid);
                        if chunk.len() == self.chunk {
                            self.send_chunk(
                                client,
                                &template,
                                std::mem::take(&mut chunk),
                                &mut receipt,
                            )
                            .await;
                        }
                    }
                    Err(at) => match self.over_limit {
                        OverLimit::Skip => {
                            receipt.rate_limited.push(userid);
                            receipt.progress.members_skipped += 1;
                        }
                        OverLimit::Wait => {
                            wake = Some(wake.map_or(at, |w| w.min(at)));
                            deferred.push(userid);
                        }
                    },
                }
            }
            if !chunk.is_empty() {
                self.send_chunk(client, &template, chunk, &mut receipt)
                    .await;
            }
            if let Some(at) = wake {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            }
            pending = deferred;
        }
        Ok(receipt)
    }

    async fn send_chunk(
        &mut self,
        client: &Client,
        template: &MessageSendRequest,
        members: Vec<String>,
        receipt: &mut BulkReceipt,
    ) {
        let mut request = template.clone();
        request.touser.clone_from(&members);
        request.toparty.clear();
        request.totag.clear();
        let n = members.len();
        match send_request(client, &mut request).await {
            Ok(r) => {
                receipt.msgids.extend(r.msgid);
                receipt.invalid_users.extend(r.invalid_users);
                receipt.unlicensed_users.extend(r.unlicensed_users);
            }
            // Every member of this chunk was rejected: that is a receipt, not a failure.
            Err(e) if e.errcode() == Some(81013) => receipt.invalid_users.extend(members),
            Err(error) => {
                tracing::warn!(%error, members = n, "a chunk of a bulk send failed");
                receipt.progress.chunks_failed += 1;
                receipt.failures.push(ChunkFailure { members, error });
            }
        }
        receipt.progress.chunks_sent += 1;
        receipt.progress.members_sent += n;
        if let Some(f) = &mut self.progress {
            f(&receipt.progress);
        }
    }
}

fn client_needs_switch(client: &Client, agentid: u32) -> bool {
    client.agentid() != Some(agentid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_windows_slide() {
        let l = MemberLimiter::new([
            (2, Duration::from_secs(10)),
            (3, Duration::from_secs(100)),
            (0, Duration::ZERO),
        ]);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(l.try_admit(1, "A", at(0)).is_ok());
        assert!(
            l.try_admit(1, "a", at(1)).is_ok(),
            "userids are case-insensitive keys"
        );
        assert_eq!(
            l.try_admit(1, "a", at(2)),
            Err(at(10)),
            "the first send leaves the 10 s window at 10 s"
        );
        assert!(
            l.try_admit(2, "a", at(2)).is_ok(),
            "another app has its own count"
        );
        assert!(
            l.try_admit(1, "b", at(2)).is_ok(),
            "another member has its own count"
        );
        assert!(l.try_admit(1, "a", at(10)).is_ok());
        // Three within 100 s: the next fits when the first leaves the long window.
        assert_eq!(l.try_admit(1, "a", at(50)), Err(at(100)));
        assert!(l.try_admit(1, "a", at(100)).is_ok());
    }

    #[test]
    fn zero_limit_is_one() {
        let l = MemberLimiter::new([(0, Duration::from_secs(1))]);
        let t0 = Instant::now();
        assert!(l.try_admit(1, "a", t0).is_ok());
        assert_eq!(l.try_admit(1, "a", t0), Err(t0 + Duration::from_secs(1)));
    }
}
