//! The timed part: every prepared message sent with C requests in flight. Nothing is parsed
//! or verified here; each answer is kept with its latency for [`super::verify`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::http::{read_capped, BodyError};
use super::prepare::Request;

/// What came back for one request.
#[derive(Clone, Debug)]
pub struct Answer {
    /// From sending the request to the last byte of the answer.
    pub latency: Duration,
    /// The HTTP answer, or why there was none.
    pub result: Result<Reply, Transport>,
}

/// An HTTP answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// No HTTP answer: the kind (`timeout`, `connect`, `body`, `too large`, `request`) and the
/// client's message.
#[derive(Clone, Debug)]
pub struct Transport {
    /// Kind, for counting.
    pub kind: &'static str,
    /// The error as the HTTP client said it.
    pub detail: String,
}

fn transport(e: &reqwest::Error) -> Transport {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    Transport {
        kind,
        detail: e.to_string(),
    }
}

async fn send_one(client: &reqwest::Client, request: &Request) -> Result<Reply, Transport> {
    let sent = match request {
        Request::Post { url, body } => {
            client
                .post(&**url)
                .header("content-type", "application/x-pki-message")
                .body(body.clone())
                .send()
                .await
        }
        Request::Get { url } => client.get(url).send().await,
    };
    let resp = sent.map_err(|e| transport(&e))?;
    let status = resp.status().as_u16();
    match read_capped(resp).await {
        Ok(body) => Ok(Reply { status, body }),
        Err(BodyError::Transport(e)) => Err(transport(&e)),
        Err(e @ BodyError::TooLarge) => Err(Transport {
            kind: "too large",
            detail: e.to_string(),
        }),
    }
}

/// Sends every request, `concurrency` at a time; answers in request order, and the wall time
/// from the first send to the last answer.
pub async fn send_all(
    client: &reqwest::Client,
    requests: &Arc<Vec<Request>>,
    concurrency: usize,
) -> (Vec<Answer>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    let started = Instant::now();
    for _ in 0..concurrency.clamp(1, requests.len().max(1)) {
        let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                let t0 = Instant::now();
                let result = send_one(&client, request).await;
                mine.push((
                    i,
                    Answer {
                        latency: t0.elapsed(),
                        result,
                    },
                ));
            }
            mine
        });
    }
    let mut slots: Vec<Option<Answer>> = vec![None; requests.len()];
    while let Some(done) = workers.join_next().await {
        // A worker only ends by running out of requests; a panic would lose its answers,
        // which then show as transport errors below.
        if let Ok(mine) = done {
            for (i, a) in mine {
                slots[i] = Some(a);
            }
        }
    }
    let wall = started.elapsed();
    let answers = slots
        .into_iter()
        .map(|a| {
            a.unwrap_or(Answer {
                latency: Duration::ZERO,
                result: Err(Transport {
                    kind: "lost",
                    detail: "the sending task failed".into(),
                }),
            })
        })
        .collect();
    (answers, wall)
}
