//! The fault switchboard of one fake: which faults are in force on which operation, struck once
//! per call, and the release of calls held by a `hang`.
//!
//! A `hang` holds its call until the fault on that operation is healed or replaced, or the fake
//! shuts down — never longer — so no scenario waits on a hang it has already healed.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use crate::contract::fault::{Fault, FaultKind, Scope};

#[derive(Debug)]
struct Board<Op> {
    faults: Vec<(Op, Fault)>,
    /// Bumped on every change to an operation's fault: a held call waits for its operation's
    /// generation to move on.
    generation: HashMap<Op, u64>,
    closing: bool,
}

/// The faults in force on one fake, keyed by operation. Cloning shares the same board.
#[derive(Clone, Debug)]
pub struct Switchboard<Op> {
    board: Arc<Mutex<Board<Op>>>,
    changed: Arc<watch::Sender<u64>>,
}

impl<Op> Default for Switchboard<Op> {
    fn default() -> Self {
        Switchboard {
            board: Arc::new(Mutex::new(Board {
                faults: Vec::new(),
                generation: HashMap::new(),
                closing: false,
            })),
            changed: Arc::new(watch::channel(0).0),
        }
    }
}

/// A call struck by a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strike<Op> {
    /// What the fault does.
    pub kind: FaultKind,
    op: Op,
    generation: u64,
}

impl<Op: Copy + Eq + Hash> Switchboard<Op> {
    fn lock(&self) -> MutexGuard<'_, Board<Op>> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn touch(&self, board: &mut Board<Op>, op: Option<Op>) {
        match op {
            Some(op) => *board.generation.entry(op).or_default() += 1,
            None => board.generation.values_mut().for_each(|g| *g += 1),
        }
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Puts a fault on `op`, replacing any fault already there (and releasing calls held by it).
    pub fn inject(&self, op: Op, fault: Fault) {
        let mut board = self.lock();
        board.faults.retain(|(o, _)| *o != op);
        if fault.scope != Scope::Times(0) {
            board.faults.push((op, fault));
        }
        self.touch(&mut board, Some(op));
    }

    /// Removes the fault on `op`, if any, and releases calls it holds.
    pub fn heal(&self, op: Op) {
        let mut board = self.lock();
        board.faults.retain(|(o, _)| *o != op);
        self.touch(&mut board, Some(op));
    }

    /// Removes every fault and releases every held call.
    pub fn heal_all(&self) {
        let mut board = self.lock();
        board.faults.clear();
        self.touch(&mut board, None);
    }

    /// Releases every held call for good: the fake is shutting down.
    pub fn close(&self) {
        let mut board = self.lock();
        board.closing = true;
        self.touch(&mut board, None);
    }

    /// The operations carrying a fault, with the fault.
    pub fn faults(&self) -> Vec<(Op, Fault)> {
        self.lock().faults.clone()
    }

    /// Called once per call to `op`: the fault that strikes this call, if any. A `Times` fault
    /// counts down and disappears after its last call.
    pub fn strike(&self, op: Op) -> Option<Strike<Op>> {
        let mut board = self.lock();
        let i = board.faults.iter().position(|(o, _)| *o == op)?;
        let kind = board.faults[i].1.kind;
        if let Scope::Times(n) = &mut board.faults[i].1.scope {
            *n = n.saturating_sub(1);
            if *n == 0 {
                board.faults.remove(i);
            }
        }
        let generation = board.generation.get(&op).copied().unwrap_or_default();
        Some(Strike {
            kind,
            op,
            generation,
        })
    }

    /// The fault on `op` without counting a call (for state such as a closed port or a
    /// missing certificate).
    pub fn peek(&self, op: Op) -> Option<FaultKind> {
        self.lock()
            .faults
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, f)| f.kind)
    }

    /// Holds a call struck by `hang` until its operation is healed or re-faulted, or the fake
    /// closes.
    pub async fn hold(&self, strike: Strike<Op>) {
        let mut rx = self.changed.subscribe();
        loop {
            {
                let board = self.lock();
                let now = board
                    .generation
                    .get(&strike.op)
                    .copied()
                    .unwrap_or_default();
                if board.closing || now != strike.generation {
                    return;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::contract::fault::CaOp;

    fn fault(kind: FaultKind, scope: Scope) -> Fault {
        Fault { kind, scope }
    }

    #[test]
    fn times_scope_counts_down_and_heal_removes() {
        let sb = Switchboard::default();
        sb.inject(CaOp::Issue, fault(FaultKind::Status(500), Scope::Times(2)));
        assert_eq!(sb.strike(CaOp::Revoke), None);
        assert_eq!(
            sb.strike(CaOp::Issue).map(|s| s.kind),
            Some(FaultKind::Status(500))
        );
        assert_eq!(
            sb.strike(CaOp::Issue).map(|s| s.kind),
            Some(FaultKind::Status(500))
        );
        assert_eq!(sb.strike(CaOp::Issue), None);
        sb.inject(CaOp::Issue, fault(FaultKind::Hang, Scope::UntilHealed));
        for _ in 0..5 {
            assert_eq!(
                sb.strike(CaOp::Issue).map(|s| s.kind),
                Some(FaultKind::Hang)
            );
        }
        sb.heal(CaOp::Issue);
        assert_eq!(sb.strike(CaOp::Issue), None);
    }

    #[tokio::test]
    async fn a_held_call_is_released_by_heal_even_after_its_last_time() {
        let sb = Switchboard::default();
        sb.inject(CaOp::Issue, fault(FaultKind::Hang, Scope::Times(1)));
        let strike = sb.strike(CaOp::Issue).expect("struck");
        // The fault is used up, but the call it struck stays held until healed.
        let held = tokio::spawn({
            let sb = sb.clone();
            async move { sb.hold(strike).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!held.is_finished(), "released before heal");
        sb.heal(CaOp::Issue);
        tokio::time::timeout(Duration::from_secs(5), held)
            .await
            .expect("heal released the call")
            .expect("task");
    }

    #[tokio::test]
    async fn other_operations_and_close_release_correctly() {
        let sb = Switchboard::default();
        sb.inject(CaOp::Issue, fault(FaultKind::Hang, Scope::UntilHealed));
        let strike = sb.strike(CaOp::Issue).expect("struck");
        let held = tokio::spawn({
            let sb = sb.clone();
            async move { sb.hold(strike).await }
        });
        sb.heal(CaOp::Revoke);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!held.is_finished(), "healing another operation released it");
        sb.close();
        tokio::time::timeout(Duration::from_secs(5), held)
            .await
            .expect("close released the call")
            .expect("task");
    }
}
