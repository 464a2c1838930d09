//! Who each SCEP transaction in flight is for: the device and user the policy module names in
//! its events, from the verification until the notification. Forgotten when the transaction
//! ends, and bounded whatever happens: a transaction NDES never finishes cannot make a
//! long-running connector grow (the oldest is forgotten beyond [`Subjects::CAP`]).

use std::collections::{HashMap, VecDeque};

/// Device and user by SCEP transaction id.
#[derive(Debug, Default)]
pub(super) struct Subjects {
    /// Transaction id → (generation, device, user).
    map: HashMap<String, (u64, String, String)>,
    /// Insertion order, with the generation each entry had.
    order: VecDeque<(String, u64)>,
    next: u64,
}

impl Subjects {
    /// Transactions remembered at most.
    pub(crate) const CAP: usize = 10_000;

    /// Remembers (or updates) who `transaction_id` is for.
    pub(crate) fn remember(&mut self, transaction_id: &str, device: String, user: String) {
        self.next = self.next.wrapping_add(1);
        let generation = self.next;
        self.map
            .insert(transaction_id.to_string(), (generation, device, user));
        self.order
            .push_back((transaction_id.to_string(), generation));
        while self.order.len() > Self::CAP {
            if let Some((old, g)) = self.order.pop_front() {
                // Only the entry this slot recorded: a later `remember` of the same id lives on.
                if self
                    .map
                    .get(&old)
                    .is_some_and(|(current, ..)| *current == g)
                {
                    self.map.remove(&old);
                }
            }
        }
    }

    /// Who `transaction_id` is for.
    pub(crate) fn get(&self, transaction_id: &str) -> Option<(String, String)> {
        self.map
            .get(transaction_id)
            .map(|(_, d, u)| (d.clone(), u.clone()))
    }

    /// Forgets `transaction_id` (its transaction ended).
    pub(crate) fn forget(&mut self, transaction_id: &str) {
        self.map.remove(transaction_id);
        if self.map.is_empty() {
            self.order.clear();
        }
    }

    /// Transactions remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_ended_transactions_and_stays_bounded() {
        let mut s = Subjects::default();
        s.remember("t1", "phone-1".into(), String::new());
        s.remember("t1", "phone-1".into(), "bob".into());
        assert_eq!(s.get("t1"), Some(("phone-1".into(), "bob".into())));
        s.forget("t1");
        assert_eq!(s.get("t1"), None);
        assert_eq!(s.len(), 0);
        for n in 0..Subjects::CAP + 500 {
            s.remember(&format!("t{n}"), format!("d{n}"), String::new());
        }
        assert_eq!(s.len(), Subjects::CAP);
        assert!(s.order.len() <= Subjects::CAP);
        assert_eq!(s.get("t0"), None, "the oldest is forgotten");
        assert!(s.get(&format!("t{}", Subjects::CAP + 499)).is_some());
    }

    #[test]
    fn a_remembered_again_id_outlives_its_old_slot() {
        let mut s = Subjects::default();
        s.remember("again", "d".into(), String::new());
        for n in 0..Subjects::CAP - 1 {
            s.remember(&format!("t{n}"), "x".into(), String::new());
        }
        s.remember("again", "d2".into(), String::new());
        // The first slot of "again" is evicted; its second remember is not.
        assert_eq!(s.get("again"), Some(("d2".into(), String::new())));
    }
}
