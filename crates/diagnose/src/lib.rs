//! The administrator's scoping table, as a pure function.
//!
//! Support for the system deskshare replaces began every case with the same questions:
//! does it fail for one user or for many; inside the organisation, outside, or both; on
//! one computer or on all of that user's computers? The answers point at a layer — the
//! client machine, the account, the network path, the server, or an outage. Here the
//! answers come from the failure reports clients sent (see `deskshare_proto::report`):
//! [`diagnose`] groups them by code and hop and gives each group, and the whole window,
//! a [`Verdict`] with the facts it rests on. No I/O, no clock: the caller passes the
//! reports of the window and the window itself.

mod judge;
mod since;

use std::collections::{BTreeMap, BTreeSet};

use deskshare_proto::report::{ClientKind, Diagnosis, FailureGroup, Hop, Network, Spread};

pub use judge::{judge, plural};
pub use since::parse_since;

/// Most signed-in names a group lists.
pub const NAMES_LISTED: usize = 10;

/// One stored report, as the server knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub code: String,
    pub hop: Hop,
    pub client: ClientKind,
    pub installation: String,
    /// The signed-in name, from the sign-in (never from the report's body).
    pub user: Option<String>,
    pub network: Network,
    /// When it failed, in Unix seconds.
    pub at: i64,
}

impl Fact {
    /// Who failed: a signed-in name is a person wherever they are; a guest is known
    /// only by their installation, so each guest computer counts as one person.
    fn person(&self) -> String {
        match &self.user {
            Some(u) => format!("user:{u}"),
            None => format!("guest:{}", self.installation),
        }
    }
}

/// How widely `facts` spread.
pub fn spread<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> Spread {
    let mut people = BTreeSet::new();
    let mut computers = BTreeSet::new();
    let mut s = Spread::default();
    for f in facts {
        s.reports += 1;
        people.insert(f.person());
        computers.insert(f.installation.as_str());
        match f.network {
            Network::Inside => s.inside += 1,
            Network::Outside => s.outside += 1,
            Network::Unknown => s.unknown += 1,
        }
    }
    s.people = people.len() as u32;
    s.computers = computers.len() as u32;
    s
}

/// Groups the window's reports by code and hop and judges each group; the verdict of
/// the window is that of the group the most people share (a failure many people have
/// is the one to work on, not the one person with an odd problem beside it).
pub fn diagnose(facts: &[Fact], since: i64, until: i64, meeting: Option<String>, internal_ranges: bool) -> Diagnosis {
    let mut by_failure: BTreeMap<(&str, Hop), Vec<&Fact>> = BTreeMap::new();
    for f in facts {
        by_failure.entry((f.code.as_str(), f.hop)).or_default().push(f);
    }
    let mut groups: Vec<FailureGroup> = by_failure
        .into_iter()
        .map(|((code, hop), members)| {
            let spread = spread(members.iter().copied());
            let mut clients: BTreeMap<ClientKind, u32> = BTreeMap::new();
            let mut names = BTreeSet::new();
            for f in &members {
                *clients.entry(f.client).or_default() += 1;
                if let Some(u) = &f.user {
                    names.insert(u.clone());
                }
            }
            let first = members.iter().map(|f| f.at).min().unwrap_or(since);
            let last = members.iter().map(|f| f.at).max().unwrap_or(until);
            let verdict = judge(code, hop, &spread, internal_ranges, &clients);
            FailureGroup {
                code: code.to_string(),
                hop,
                spread,
                clients: clients.into_iter().collect(),
                people: names.into_iter().take(NAMES_LISTED).collect(),
                first,
                last,
                verdict,
            }
        })
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse((g.spread.people, g.spread.reports, g.last)));
    Diagnosis {
        since,
        until,
        meeting,
        internal_ranges,
        spread: spread(facts),
        verdict: groups.first().map(|g| g.verdict.clone()),
        groups,
    }
}

#[cfg(test)]
mod tests;
