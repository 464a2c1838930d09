//! One queue of the fake Intune, kept compactly: every request ever queued, in queue order,
//! with what its uploads came to (the ledger the exactly-once check reads), and the requests
//! still waiting for their final result.
//!
//! A long run queues hundreds of thousands of requests, so the ledger keeps per request only
//! what the check and the state report need: its id (16 bytes when it is a lower-case version-4
//! GUID, as the service draws them; other ids are kept as text), its tag (the device or serial
//! number the state reports, interned) and four counters. A request itself is kept only while
//! it waits for its final result. Every lookup by id is a hash lookup, so an upload costs the
//! same with ten requests queued or a million.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::contract::intune::admin::{LedgerEntry, Queue};
use crate::sim::format_guid;

/// A request id: the 16 bytes of a lower-case version-4 GUID, or (byte 6 is 0, never a
/// version-4 GUID's) the index of the id's text in [`RequestQueue::texts`].
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key([u8; 16]);

/// An id as it is compared and hashed: the same id always gives the same `Id`, whichever way
/// it is stored.
#[derive(Hash, PartialEq, Eq)]
enum Id<'a> {
    Guid([u8; 16]),
    Text(&'a str),
}

impl<'a> Id<'a> {
    /// Reads `text` as a GUID when it is exactly what [`crate::sim::Rng::guid`] writes.
    fn of(text: &'a str) -> Id<'a> {
        parse_guid(text).map_or(Id::Text(text), Id::Guid)
    }
}

fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let b = text.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: Vec<u8> = b.iter().copied().filter(|c| *c != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(&hex, &mut out).ok()?;
    (out[6] >> 4 == 4).then_some(out)
}

/// The id `key` stands for; `texts` holds the ids that are not GUIDs.
fn id_in<'t>(key: &Key, texts: &'t [Box<str>]) -> Id<'t> {
    if key.0[6] >> 4 == 4 {
        Id::Guid(key.0)
    } else {
        let n = u32::from_le_bytes([key.0[0], key.0[1], key.0[2], key.0[3]]);
        Id::Text(texts.get(n as usize).map_or("", |s| s))
    }
}

/// What the uploads for one request came to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub recorded: u32,
    pub requeued: u32,
    pub duplicates: u32,
    pub contradictory: u32,
}

/// One distinct id.
struct Slot {
    key: Key,
    counts: Counts,
    /// The row it was first queued at.
    first_row: u32,
    /// How many times it was queued (more than once only when a caller reused an id).
    queued: u32,
}

/// One queueing, in queue order.
#[derive(Clone, Copy)]
struct Row {
    slot: u32,
    tag: u32,
}

/// A request waiting for its final result.
pub(super) struct Waiting<T> {
    pub request: T,
    /// Times it was handed out.
    pub handouts: u32,
    /// The CA it names, read once when it was queued (`None`: it names none readable, and
    /// goes to any issuer).
    pub issuer: Option<String>,
    slot: u32,
}

/// Distinct strings, each kept once.
#[derive(Default)]
struct Interned {
    names: Vec<Box<str>>,
    index: HashTable<u32>,
}

impl Interned {
    fn intern(&mut self, hasher: &RandomState, name: &str) -> Result<u32, String> {
        let names = &self.names;
        let hash = hasher.hash_one(name);
        if let Some(&n) = self.index.find(hash, |&n| &*names[n as usize] == name) {
            return Ok(n);
        }
        let n = u32::try_from(self.names.len()).map_err(|_| too_many())?;
        self.names.push(name.into());
        let names = &self.names;
        self.index
            .insert_unique(hash, n, |&n| hasher.hash_one(&*names[n as usize]));
        Ok(n)
    }

    fn get(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", |s| s)
    }
}

fn too_many() -> String {
    format!("the queue holds {} requests, its limit", u32::MAX)
}

/// How a queue's requests stand, counted without copying anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueSummary {
    /// Requests queued (a reused id counts each time).
    pub queued: usize,
    /// Distinct request ids.
    pub distinct: usize,
    /// Requests still waiting for their final result.
    pub pending: usize,
    /// Final results recorded, over all requests.
    pub recorded: u64,
    /// Requests with exactly one final result and no refused duplicate.
    pub exactly_once: usize,
    /// Requests with more than one final result, or a refused duplicate.
    pub more_than_once: usize,
    /// Requests with no final result.
    pub never: usize,
}

/// One queue: what is waiting, and the ledger of everything ever queued.
pub(super) struct RequestQueue<T> {
    slots: Vec<Slot>,
    rows: Vec<Row>,
    /// Slot numbers, by id.
    index: HashTable<u32>,
    hasher: RandomState,
    /// Ids that are not version-4 GUIDs.
    texts: Vec<Box<str>>,
    tags: Interned,
    /// Row → request, oldest first.
    waiting: BTreeMap<u32, Waiting<T>>,
}

impl<T: Clone> Default for RequestQueue<T> {
    fn default() -> RequestQueue<T> {
        RequestQueue {
            slots: Vec::new(),
            rows: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::new(),
            texts: Vec::new(),
            tags: Interned::default(),
            waiting: BTreeMap::new(),
        }
    }
}

impl<T: Clone> RequestQueue<T> {
    fn id_of(&self, key: &Key) -> Id<'_> {
        id_in(key, &self.texts)
    }

    fn text_of(&self, key: &Key) -> String {
        match self.id_of(key) {
            Id::Guid(b) => format_guid(&b),
            Id::Text(t) => t.to_string(),
        }
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        let id = Id::of(id);
        let hash = self.hasher.hash_one(&id);
        self.index
            .find(hash, |&s| self.id_of(&self.slots[s as usize].key) == id)
            .copied()
    }

    /// Queues `request` under `id`, reporting `tag` (its device or serial) in the state.
    pub(super) fn push(
        &mut self,
        id: &str,
        tag: &str,
        request: T,
        issuer: Option<String>,
    ) -> Result<(), String> {
        let row = u32::try_from(self.rows.len()).map_err(|_| too_many())?;
        let tag = self.tags.intern(&self.hasher, tag)?;
        let slot = match self.slot_of(id) {
            Some(s) => {
                let slot = &mut self.slots[s as usize];
                slot.queued = slot.queued.saturating_add(1);
                s
            }
            None => {
                let s = u32::try_from(self.slots.len()).map_err(|_| too_many())?;
                let key = match Id::of(id) {
                    Id::Guid(b) => Key(b),
                    Id::Text(t) => {
                        let n = u32::try_from(self.texts.len()).map_err(|_| too_many())?;
                        self.texts.push(t.into());
                        let mut b = [0u8; 16];
                        b[..4].copy_from_slice(&n.to_le_bytes());
                        Key(b)
                    }
                };
                self.slots.push(Slot {
                    key,
                    counts: Counts::default(),
                    first_row: row,
                    queued: 1,
                });
                let hash = self.hasher.hash_one(Id::of(id));
                let (slots, texts, hasher) = (&self.slots, &self.texts, &self.hasher);
                self.index.insert_unique(hash, s, |&s| {
                    hasher.hash_one(id_in(&slots[s as usize].key, texts))
                });
                s
            }
        };
        self.rows.push(Row { slot, tag });
        self.waiting.insert(
            row,
            Waiting {
                request,
                handouts: 0,
                issuer,
                slot,
            },
        );
        Ok(())
    }

    /// Hands out up to `max` waiting requests that `keep` selects, oldest first; they stay
    /// waiting until a final result is recorded.
    pub(super) fn hand_out(&mut self, max: u32, keep: impl Fn(&Waiting<T>) -> bool) -> Vec<T> {
        self.waiting
            .values_mut()
            .filter(|w| keep(w))
            .take(max as usize)
            .map(|w| {
                w.handouts = w.handouts.saturating_add(1);
                w.request.clone()
            })
            .collect()
    }

    /// Whether `id` was ever queued.
    pub(super) fn was_queued(&self, id: &str) -> bool {
        self.slot_of(id).is_some()
    }

    /// Whether `id` already has its final result.
    pub(super) fn is_final(&self, id: &str) -> bool {
        self.slot_of(id)
            .is_some_and(|s| self.slots[s as usize].counts.recorded > 0)
    }

    /// The request `id` names, while it waits.
    pub(super) fn waiting(&self, id: &str) -> Option<&T> {
        let s = self.slot_of(id)?;
        let slot = &self.slots[s as usize];
        match self.waiting.get(&slot.first_row) {
            Some(w) => Some(&w.request),
            None if slot.queued > 1 => self
                .waiting
                .values()
                .find(|w| w.slot == s)
                .map(|w| &w.request),
            None => None,
        }
    }

    /// Counts one upload for `id` (queued: `was_queued` said so).
    pub(super) fn count(&mut self, id: &str, add: impl FnOnce(&mut Counts)) {
        if let Some(s) = self.slot_of(id) {
            add(&mut self.slots[s as usize].counts);
        }
    }

    /// `id` has its final result: it leaves the waiting list.
    pub(super) fn finish(&mut self, id: &str) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let slot = &self.slots[s as usize];
        if slot.queued > 1 {
            self.waiting.retain(|_, w| w.slot != s);
        } else {
            self.waiting.remove(&slot.first_row);
        }
    }

    fn pending_slot(&self, s: u32) -> bool {
        let slot = &self.slots[s as usize];
        self.waiting.contains_key(&slot.first_row)
            || (slot.queued > 1 && self.waiting.values().any(|w| w.slot == s))
    }

    /// Ids still waiting, oldest first.
    pub(super) fn pending_ids(&self) -> Vec<String> {
        self.waiting
            .values()
            .map(|w| self.text_of(&self.slots[w.slot as usize].key))
            .collect()
    }

    /// Every queueing, in queue order: id and tag.
    pub(super) fn queued(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .map(|r| {
                (
                    self.text_of(&self.slots[r.slot as usize].key),
                    self.tags.get(r.tag).to_string(),
                )
            })
            .collect()
    }

    /// The ledger, one entry per queueing, in queue order.
    pub(super) fn entries(&self, queue: Queue) -> Vec<LedgerEntry> {
        self.rows
            .iter()
            .map(|r| {
                let slot = &self.slots[r.slot as usize];
                LedgerEntry {
                    queue,
                    request_id: self.text_of(&slot.key),
                    recorded: slot.counts.recorded,
                    requeued: slot.counts.requeued,
                    duplicates: slot.counts.duplicates,
                    contradictory: slot.counts.contradictory,
                    pending: self.pending_slot(r.slot),
                }
            })
            .collect()
    }

    /// The queue's standing, counted in place.
    pub(super) fn summary(&self) -> QueueSummary {
        let mut s = QueueSummary {
            queued: self.rows.len(),
            distinct: self.slots.len(),
            pending: self.waiting.len(),
            ..QueueSummary::default()
        };
        for slot in &self.slots {
            let c = slot.counts;
            s.recorded = s.recorded.saturating_add(u64::from(c.recorded));
            match (c.recorded, c.duplicates) {
                (0, _) => s.never += 1,
                (1, 0) => s.exactly_once += 1,
                _ => s.more_than_once += 1,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0f1e2d3c-4b5a-4697-8877-665544332211";
    const B: &str = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d";

    #[test]
    fn ids_come_back_as_they_went_in() {
        for id in [A, "nope", "0F1E2D3C-4B5A-4697-8877-665544332211", "", B] {
            let mut q = RequestQueue::<u8>::default();
            q.push(id, "dev", 1, None).unwrap();
            assert_eq!(q.queued(), [(id.to_string(), "dev".to_string())]);
            assert!(q.was_queued(id));
            assert_eq!(q.pending_ids(), [id.to_string()]);
        }
        // Only lower-case version-4 GUIDs are kept as bytes.
        assert!(parse_guid(A).is_some());
        assert!(parse_guid("0f1e2d3c-4b5a-1697-8877-665544332211").is_none());
        assert!(parse_guid(&A.to_uppercase()).is_none());
        assert!(parse_guid("0f1e2d3c+4b5a-4697-8877-665544332211").is_none());
    }

    #[test]
    fn hands_out_oldest_first_and_forgets_finished_requests() {
        let mut q = RequestQueue::<&str>::default();
        q.push(A, "d1", "a", Some("CA".into())).unwrap();
        q.push("text-id", "d2", "t", None).unwrap();
        q.push(B, "d1", "b", Some("other".into())).unwrap();
        let only_ca = |w: &Waiting<&str>| w.issuer.as_deref().is_none_or(|i| i == "CA");
        assert_eq!(q.hand_out(10, only_ca), ["a", "t"]);
        assert_eq!(q.hand_out(1, |_| true), ["a"]);
        assert_eq!(q.waiting(B), Some(&"b"));
        q.count(A, |c| c.recorded += 1);
        q.finish(A);
        assert!(q.is_final(A) && !q.is_final(B) && !q.is_final("unknown"));
        assert_eq!(q.waiting(A), None);
        assert_eq!(q.hand_out(10, |_| true), ["t", "b"]);
        let e = q.entries(Queue::Pkcs);
        assert_eq!(
            e.iter()
                .map(|e| (e.request_id.as_str(), e.recorded, e.pending))
                .collect::<Vec<_>>(),
            [(A, 1, false), ("text-id", 0, true), (B, 0, true)]
        );
        assert_eq!(
            q.summary(),
            QueueSummary {
                queued: 3,
                distinct: 3,
                pending: 2,
                recorded: 1,
                exactly_once: 1,
                more_than_once: 0,
                never: 2,
            }
        );
    }

    #[test]
    fn a_reused_id_shares_one_ledger_and_leaves_the_queue_at_once() {
        let mut q = RequestQueue::<u8>::default();
        q.push(A, "d1", 1, None).unwrap();
        q.push(B, "d2", 2, None).unwrap();
        q.push(A, "d3", 3, None).unwrap();
        assert_eq!(q.hand_out(10, |_| true), [1, 2, 3]);
        q.count(A, |c| c.recorded += 1);
        q.count(A, |c| c.duplicates += 1);
        q.finish(A);
        assert_eq!(q.hand_out(10, |_| true), [2]);
        let e = q.entries(Queue::Revocation);
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].recorded, e[0].duplicates, e[0].pending),
            (1, 1, false)
        );
        assert_eq!(e[2], LedgerEntry { ..e[0].clone() });
        assert_eq!(q.summary().more_than_once, 1);
        assert_eq!(q.queued()[2], (A.to_string(), "d3".to_string()));
    }
}
