//! The coverage gate: which scenarios reached each of the 48 catalog pairs and, when the
//! connector names why it writes each event (the reference connector does, in-process or
//! through `connector-harness connector`), each of its causes — two causes can share a pair,
//! and each needs its own scenario.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{self, Pair};
use crate::connector::Cause;

use super::Outcome;

/// For each catalog pair, the scenarios whose stream carries it.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Pair → scenario names.
    pub matrix: BTreeMap<Pair, BTreeSet<String>>,
    /// Pairs seen that are not in the catalog (with the scenario).
    pub invalid: Vec<(String, String)>,
    /// Cause → scenario names, when any scenario's connector named its causes.
    pub causes: Option<BTreeMap<&'static str, BTreeSet<String>>>,
}

impl Coverage {
    /// Coverage of a set of outcomes.
    pub fn of(outcomes: &[Outcome]) -> Coverage {
        let mut matrix: BTreeMap<Pair, BTreeSet<String>> = catalog::pairs()
            .into_iter()
            .map(|p| (p, BTreeSet::new()))
            .collect();
        let mut invalid = Vec::new();
        for o in outcomes {
            for r in &o.events {
                let pair = Pair {
                    event: r.event,
                    code: r.code,
                };
                match matrix.get_mut(&pair) {
                    Some(set) => {
                        set.insert(o.name.clone());
                    }
                    None => invalid.push((o.name.clone(), pair.to_string())),
                }
            }
        }
        let named = outcomes.iter().any(|o| !o.causes.is_empty());
        let causes = named.then(|| {
            let mut m: BTreeMap<&'static str, BTreeSet<String>> = Cause::ALL
                .iter()
                .map(|c| (c.name(), BTreeSet::new()))
                .collect();
            for o in outcomes {
                for c in &o.causes {
                    if let Some(set) = Cause::from_name(c).and_then(|c| m.get_mut(c.name())) {
                        set.insert(o.name.clone());
                    }
                }
            }
            m
        });
        Coverage {
            matrix,
            invalid,
            causes,
        }
    }

    /// Causes no scenario reached (empty when the connector named no causes).
    pub fn unreached_causes(&self) -> Vec<&'static str> {
        self.causes
            .iter()
            .flatten()
            .filter(|(_, s)| s.is_empty())
            .map(|(c, _)| *c)
            .collect()
    }

    /// Causes reached, and how many there are (when named).
    pub fn causes_reached(&self) -> Option<(usize, usize)> {
        self.causes
            .as_ref()
            .map(|m| (m.values().filter(|s| !s.is_empty()).count(), m.len()))
    }

    /// Pairs no scenario reached.
    pub fn unreached(&self) -> Vec<Pair> {
        self.matrix
            .iter()
            .filter(|(_, s)| s.is_empty())
            .map(|(p, _)| *p)
            .collect()
    }

    /// Pairs reached.
    pub fn reached(&self) -> usize {
        self.matrix.values().filter(|s| !s.is_empty()).count()
    }

    /// The matrix as text: one line a pair.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (pair, who) in &self.matrix {
            let names: Vec<_> = who.iter().take(3).cloned().collect();
            let more = if who.len() > 3 {
                format!(" (+{})", who.len() - 3)
            } else {
                String::new()
            };
            s += &format!(
                "  {} {:<6} {:<28} {} {:<34} {}{}\n",
                if who.is_empty() { "✗" } else { "✓" },
                pair.event.id(),
                pair.event.name(),
                pair.code,
                pair.code.name(),
                if who.is_empty() {
                    "NOT REACHED".to_string()
                } else {
                    names.join(", ")
                },
                more
            );
        }
        s
    }
}
