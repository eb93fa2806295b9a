//! `GET /events`: server-sent events for the console.
//!
//! With `?execution=ARN`, the execution's history as it is written (`event: history`, the event
//! as GetExecutionHistory shows it, its id as the SSE id so that a reconnect resumes after the
//! `Last-Event-ID` it sends) and its DescribeExecution answer whenever that changes
//! (`event: status`). Without, `event: executions` (`{"executions": N, "running": R}`) at
//! first and whenever the list of executions changes (one was started, or one's status changed). The store's files are polled every 200 ms per
//! stream; a stream reads the history only when its client is ready for more, so nothing piles
//! up in memory for a slow client. A comment every 15 s keeps proxies from closing a quiet
//! stream.
//!
//! Also the helpers the console's GET endpoints share: [`resolve`], the access rule
//! ([`allowed`]) and the query string.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use runs::store::ExecutionStore;
use serde_json::{json, Value};
use statemachine::engine::{ExecutionStatus, HistoryEvent};

use crate::api::Server;

/// How often a stream looks at the store's files.
const POLL: Duration = Duration::from_millis(200);

/// How often a quiet stream sends a comment.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The execution an ARN names in `server`'s store, if it exists: the store and the name.
pub(crate) fn resolve(server: &Server, execution_arn: &str) -> Option<(ExecutionStore, String)> {
    crate::api::resolve_execution(server, execution_arn)
        .ok()
        .map(|t| (t.store, t.name))
}

/// The API's rule for the console's GET endpoints: with a token, a client that is not on
/// loopback must present it, as `?token=` (an `EventSource` cannot send headers) or as the
/// access key id of an `Authorization` header.
pub(crate) fn allowed(
    token: Option<&str>,
    peer: IpAddr,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> bool {
    let Some(token) = token else {
        return true;
    };
    if peer.is_loopback() {
        return true;
    }
    let header_key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next());
    query_token == Some(token) || header_key == Some(token)
}

/// A JSON error answer, as the API words them.
pub(crate) fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({"__type": kind, "message": message.into()}).to_string();
    (status, [("content-type", "application/json")], body).into_response()
}

/// The answer to a client without the token.
pub(crate) fn forbidden() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

/// The answer for an ARN that names no execution here.
pub(crate) fn no_execution(arn: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{arn}'"),
    )
}

/// A decoded query string (`application/x-www-form-urlencoded`).
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// The pairs of `raw` (absent: none).
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (form_decode(k), form_decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `+` as a space and `%XX` as its byte; a `%` not followed by two hex digits stays as it is.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query of a GET request from a client [`allowed`] in; `None`: refuse it ([`forbidden`]).
pub(crate) fn admitted(
    server: &Server,
    peer: SocketAddr,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Option<Query> {
    let query = Query::parse(raw);
    let token = query.get("token");
    allowed(server.token.as_deref(), peer.ip(), headers, token).then_some(query)
}

/// `GET /events[?execution=ARN][&token=T][&lastEventId=N]`.
pub(crate) async fn events(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(query) = admitted(&server, peer, &headers, raw.as_deref()) else {
        return forbidden();
    };
    let Some(arn) = query.get("execution") else {
        // The list of one machine: `?stateMachine=ARN`, the feedpipe machine by default.
        let machine = match query.get("stateMachine") {
            None => runs::local::STATE_MACHINE.to_string(),
            Some(arn) => match crate::api::resolve_machine(&server, arn) {
                Ok((name, _)) => name,
                Err(e) => return e.into_response(),
            },
        };
        return executions_stream(server, machine);
    };
    let Some((store, name)) = resolve(&server, arn) else {
        return no_execution(arn);
    };
    // The browser sends Last-Event-ID when it reconnects; a page that already read the history
    // can say where it stands with `lastEventId`.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("lastEventId"))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    history_stream(Follow::new(store, name, after))
}

/// What a stream of one execution knows.
struct Follow {
    store: ExecutionStore,
    name: String,
    /// Where the next read of `events.jsonl` starts.
    offset: u64,
    /// The id of the last history event sent (or the client had).
    after: u64,
    /// Events read but not yet sent (at most one read's worth).
    pending: VecDeque<HistoryEvent>,
    /// What `description.json` was when last read (size, modification time, inode).
    stamp: Option<(u64, std::time::SystemTime, u64)>,
    /// The DescribeExecution answer last sent.
    described: Option<Value>,
}

/// What a poll found to send.
enum Next {
    History(Box<HistoryEvent>),
    Status(Value),
    Wait,
    End,
}

impl Follow {
    fn new(store: ExecutionStore, name: String, after: u64) -> Follow {
        Follow {
            store,
            name,
            offset: 0,
            after,
            pending: VecDeque::new(),
            stamp: None,
            described: None,
        }
    }

    /// Reads the events appended since the last read; whether there were any.
    fn read_events(&mut self) -> Result<bool, runs::RunsError> {
        let mut out = Vec::new();
        self.offset = self.store.events_from(&self.name, self.offset, &mut out)?;
        let after = self.after;
        self.pending
            .extend(out.into_iter().filter(|e| e.id > after));
        Ok(!self.pending.is_empty())
    }

    /// The description, when its file changed since the last look and says something new.
    fn changed_description(&mut self) -> Result<Option<Value>, runs::RunsError> {
        use std::os::unix::fs::MetadataExt as _;
        let path = self.store.dir(&self.name).join("description.json");
        let stamp = std::fs::metadata(&path).ok().map(|m| {
            (
                m.len(),
                m.modified().unwrap_or(std::time::UNIX_EPOCH),
                m.ino(),
            )
        });
        if stamp.is_some() && stamp == self.stamp {
            return Ok(None);
        }
        let d = self.store.description(&self.name)?.describe_json();
        self.stamp = stamp;
        Ok((self.described.as_ref() != Some(&d)).then_some(d))
    }

    /// The next thing to send, or whether to wait for the next poll.
    fn next(&mut self) -> Next {
        match self.step() {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("events of {}: {e}", self.name);
                Next::End
            }
        }
    }

    fn step(&mut self) -> Result<Next, runs::RunsError> {
        if self.pending.is_empty() && !self.read_events()? {
            match self.changed_description()? {
                None => return Ok(Next::Wait),
                // Events written before the description go out first: a final status comes
                // after the history that led to it (the description is read again after them).
                Some(_) if self.read_events()? => self.stamp = None,
                Some(d) => return Ok(Next::Status(d)),
            }
        }
        Ok(self
            .pending
            .pop_front()
            .map_or(Next::Wait, |e| Next::History(Box::new(e))))
    }
}

fn history_stream(follow: Follow) -> Response {
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            match f.next() {
                Next::History(e) => {
                    f.after = e.id;
                    let data = serde_json::to_string(&e).unwrap_or_else(|_| "null".into());
                    let event = Event::default()
                        .event("history")
                        .id(e.id.to_string())
                        .data(data);
                    return Some((Ok::<_, std::convert::Infallible>(event), f));
                }
                Next::Status(d) => {
                    let event = Event::default()
                        .event("status")
                        .retry(Duration::from_secs(1))
                        .data(d.to_string());
                    f.described = Some(d);
                    return Some((Ok(event), f));
                }
                Next::Wait => tokio::time::sleep(POLL).await,
                Next::End => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response()
}

/// What the list's stream knows: the journal's size and what the list looked like.
struct Watch {
    server: Arc<Server>,
    machine: String,
    journal_len: Option<u64>,
    signature: Option<u64>,
}

impl Watch {
    /// How many executions there are and how many run, when what the list shows of them (name,
    /// status, redrives) changed since the last look (which only a longer journal can mean).
    fn changed(&mut self) -> Option<Value> {
        let store = crate::api::store_of(&self.server, &self.machine);
        let journal = store.root().join("executions.journal");
        // Length and inode: a compacted journal may be as long as the one it replaced.
        let len = std::fs::metadata(&journal)
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.len() ^ (m.ino() << 40)
            })
            .unwrap_or(0);
        if self.journal_len == Some(len) {
            return None;
        }
        self.journal_len = Some(len);
        let snapshot = {
            let mut indexes = self
                .server
                .indexes
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let index = indexes.entry(self.machine.clone()).or_default();
            if let Err(e) = index.refresh(&store) {
                tracing::warn!("executions list: {e}");
            }
            index.newest_first()
        };
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut running = 0;
        for d in snapshot.iter().map(|l| &l.description) {
            (&d.name, d.status.as_str(), d.redrive_count).hash(&mut h);
            running += usize::from(d.status == ExecutionStatus::Running);
        }
        let signature = h.finish();
        if self.signature == Some(signature) {
            return None;
        }
        self.signature = Some(signature);
        Some(json!({"executions": snapshot.len(), "running": running}))
    }
}

fn executions_stream(server: Arc<Server>, machine: String) -> Response {
    let watch = Watch {
        server,
        machine,
        journal_len: None,
        signature: None,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if let Some(counts) = w.changed() {
                let event = Event::default()
                    .event("executions")
                    .data(counts.to_string());
                return Some((Ok::<_, std::convert::Infallible>(event), w));
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_needed_only_off_loopback() {
        let none = HeaderMap::new();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let local6: IpAddr = "::1".parse().unwrap();
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(allowed(None, remote, &none, None));
        assert!(allowed(Some("t0k"), local, &none, None));
        assert!(allowed(Some("t0k"), local6, &none, None));
        assert!(!allowed(Some("t0k"), remote, &none, None));
        assert!(!allowed(Some("t0k"), remote, &none, Some("wrong")));
        assert!(!allowed(Some("t0k"), remote, &none, Some("")));
        assert!(allowed(Some("t0k"), remote, &none, Some("t0k")));
        let mut signed = HeaderMap::new();
        signed.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=t0k/20261202/us-east-1/states/aws4_request"
                .parse()
                .unwrap(),
        );
        assert!(allowed(Some("t0k"), remote, &signed, None));
        let mut other = HeaderMap::new();
        other.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=nope/x".parse().unwrap(),
        );
        assert!(!allowed(Some("t0k"), remote, &other, None));
    }

    #[test]
    fn the_query_string_is_form_decoded() {
        let q = Query::parse(Some(
            "execution=arn%3Aaws%3Astates&stream=%2e%2e%2Fx.log&a=b+c&bad=%zz%4&empty",
        ));
        assert_eq!(q.get("execution"), Some("arn:aws:states"));
        assert_eq!(q.get("stream"), Some("../x.log"));
        assert_eq!(q.get("a"), Some("b c"));
        assert_eq!(q.get("bad"), Some("%zz%4"));
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(Query::parse(None).get("x"), None);
    }
}
