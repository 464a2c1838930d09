//! `serve`'s event log: the connector's records leave the sink as they are written and go,
//! one JSON line each (the harness's wire record, as `--events` and `check` read it), to a
//! file: the `--events` file, or a temporary one. Memory stays bounded however long serve runs,
//! the file is complete up to the last record at any moment (flushed to disk at shutdown), and
//! followers of the admin API's stream read it from the start and then wait for more.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::watch;

use crate::event::{to_jsonl, Sink};

/// How far the file is written: bytes of whole records, and whether serve has stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Progress {
    bytes: u64,
    records: u64,
    closed: bool,
}

/// The event log of one `serve`. See the module documentation.
pub struct EventLog {
    sink: Sink,
    path: PathBuf,
    file: Mutex<Writer>,
    progress: watch::Sender<Progress>,
    echo: bool,
    _temp: Option<tempfile::TempDir>,
}

/// The file and what could not be written to it yet.
struct Writer {
    file: std::fs::File,
    /// Whole records drained from the sink and not yet in the file (after a failed write).
    pending: String,
    /// Bytes of whole records in the file.
    written: u64,
}

/// Most bytes a follower is sent in one chunk.
const CHUNK: u64 = 64 * 1024;

impl EventLog {
    /// A log of `sink`'s records in `path` (created or truncated), or in a temporary file that
    /// lives as long as the log. With `echo`, each record is also printed to stderr.
    pub fn create(sink: Sink, path: Option<&Path>, echo: bool) -> std::io::Result<EventLog> {
        let (path, temp) = match path {
            Some(p) => (p.to_path_buf(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("connector-harness-serve-")
                    .tempdir()?;
                (dir.path().join("events.jsonl"), Some(dir))
            }
        };
        let file = std::fs::File::create(&path)?;
        Ok(EventLog {
            sink,
            path,
            file: Mutex::new(Writer {
                file,
                pending: String::new(),
                written: 0,
            }),
            progress: watch::channel(Progress::default()).0,
            echo,
            _temp: temp,
        })
    }

    fn file(&self) -> MutexGuard<'_, Writer> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file the records go to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records written to the file so far.
    pub fn records(&self) -> u64 {
        self.progress.borrow().records
    }

    /// Moves what the sink holds to the file, in order; returns how many records moved. A
    /// failed write keeps the records (and cuts the file back to its last whole record), so
    /// the next pump writes them: nothing is lost or written twice.
    pub fn pump(&self) -> std::io::Result<usize> {
        // Draining under the file's lock keeps two pumps from reordering records.
        let mut w = self.file();
        let records = self.sink.drain();
        if self.echo {
            for r in &records {
                let details = r
                    .details
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                eprintln!(
                    "event {} {} {} {details}",
                    r.event.id(),
                    r.event.name(),
                    r.code
                );
            }
        }
        w.pending.push_str(&to_jsonl(&records));
        if w.pending.is_empty() {
            return Ok(0);
        }
        let count = w.pending.bytes().filter(|b| *b == b'\n').count();
        let Writer {
            file,
            pending,
            written,
        } = &mut *w;
        if let Err(e) = file.write_all(pending.as_bytes()) {
            let _ = file.set_len(*written);
            let _ = file.seek(std::io::SeekFrom::Start(*written));
            return Err(e);
        }
        let added = u64::try_from(pending.len()).unwrap_or(u64::MAX);
        *written = written.saturating_add(added);
        pending.clear();
        let bytes = *written;
        self.progress.send_modify(|p| {
            p.bytes = bytes;
            p.records = p
                .records
                .saturating_add(u64::try_from(count).unwrap_or(u64::MAX));
        });
        Ok(count)
    }

    /// Moves the last records to the file, flushes it to disk and ends every follower's
    /// stream. Serve calls it once, when it stops.
    pub fn finish(&self) -> std::io::Result<()> {
        let pumped = self.pump();
        let synced = self.file().file.sync_all();
        self.progress.send_modify(|p| p.closed = true);
        pumped.map(|_| ()).and(synced)
    }

    /// The log as a stream of bytes: everything written so far, from the first record, and
    /// then (with `live`) each record as it is written, until serve stops. Each record comes
    /// once and in order; a chunk may end inside a line, the stream ends only after one.
    pub fn follow(
        &self,
        live: bool,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        let rx = self.progress.subscribe();
        let end = (!live).then(|| rx.borrow().bytes);
        let state = Follower {
            path: self.path.clone(),
            file: None,
            pos: 0,
            end,
            rx,
        };
        futures_util::stream::unfold(state, |mut f| async move {
            match f.next().await {
                Ok(Some(chunk)) => Some((Ok(chunk), f)),
                Ok(None) => None,
                Err(e) => {
                    // Report the error once, then end.
                    f.end = Some(f.pos);
                    Some((Err(e), f))
                }
            }
        })
    }
}

struct Follower {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    pos: u64,
    /// Stop at this offset (a snapshot), or follow live when `None`.
    end: Option<u64>,
    rx: watch::Receiver<Progress>,
}

impl Follower {
    async fn next(&mut self) -> std::io::Result<Option<Bytes>> {
        loop {
            let progress = *self.rx.borrow_and_update();
            let limit = self.end.map_or(progress.bytes, |e| e.min(progress.bytes));
            if self.pos < limit {
                let n = (limit - self.pos).min(CHUNK);
                return self.read(n).await.map(Some);
            }
            if self.end.is_some() || progress.closed {
                return Ok(None);
            }
            if self.rx.changed().await.is_err() {
                return Ok(None);
            }
        }
    }

    async fn read(&mut self, n: u64) -> std::io::Result<Bytes> {
        if self.file.is_none() {
            let mut file = tokio::fs::File::open(&self.path).await?;
            file.seek(std::io::SeekFrom::Start(self.pos)).await?;
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(Bytes::new());
        };
        let mut buf = vec![0u8; usize::try_from(n).unwrap_or(usize::MAX)];
        file.read_exact(&mut buf).await?;
        self.pos = self.pos.saturating_add(n);
        Ok(Bytes::from(buf))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::catalog::{DiagnosticCode, EventId};
    use crate::event::{from_jsonl, Details};
    use crate::sim::Clock;

    fn emit(sink: &Sink) {
        sink.emit(
            EventId::StartedConnectorService,
            DiagnosticCode::Success,
            Details::new(),
        )
        .unwrap();
    }

    async fn collect(s: impl Stream<Item = std::io::Result<Bytes>>) -> String {
        let chunks: Vec<_> = s.collect().await;
        let bytes: Vec<u8> = chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    #[tokio::test]
    async fn late_followers_get_everything_once_in_order_then_the_tail() {
        let sink = Sink::new(Clock::default());
        let log = std::sync::Arc::new(EventLog::create(sink.clone(), None, false).unwrap());
        emit(&sink);
        emit(&sink);
        assert_eq!(log.pump().unwrap(), 2);
        assert!(sink.records().is_empty(), "the sink keeps nothing");
        let snapshot = collect(log.follow(false)).await;
        assert_eq!(from_jsonl(&snapshot).unwrap().len(), 2);
        let live = tokio::spawn(collect(log.follow(true)));
        for _ in 0..3 {
            emit(&sink);
            log.pump().unwrap();
        }
        emit(&sink);
        log.finish().unwrap();
        let text = tokio::time::timeout(std::time::Duration::from_secs(10), live)
            .await
            .expect("the live stream ends when the log finishes")
            .unwrap();
        let seqs: Vec<u64> = from_jsonl(&text)
            .unwrap()
            .iter()
            .map(|r| r.sequence)
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(std::fs::read_to_string(log.path()).unwrap(), text);
    }
}
