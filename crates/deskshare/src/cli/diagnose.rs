//! `deskshare admin diagnose`: the diagnosis as text for a person.

use std::time::{Duration, UNIX_EPOCH};

use deskshare_diagnose::plural as count;
use deskshare_proto::report::{Diagnosis, FailureGroup, Verdict};

fn when(unix: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

fn verdict_lines(out: &mut String, v: &Verdict, indent: &str) {
    out.push_str(&format!("{indent}likely layer: {}\n", v.layer.as_str()));
    out.push_str(&format!("{indent}why: {}\n", v.summary));
    out.push_str(&format!("{indent}next: {}\n", v.next));
    for e in &v.evidence {
        out.push_str(&format!("{indent}  - {e}\n"));
    }
}

fn group_lines(out: &mut String, g: &FailureGroup, leading: bool) {
    let s = &g.spread;
    let clients: Vec<String> = g.clients.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    out.push_str(&format!(
        "\n  {} at {}: {}, {}, {} ({} inside, {} outside; {})\n",
        g.code,
        g.hop.as_str(),
        count(s.reports, "report", "reports"),
        count(s.people, "person", "people"),
        count(s.computers, "computer", "computers"),
        s.inside,
        s.outside,
        clients.join(", ")
    ));
    out.push_str(&format!("    from {} to {}\n", when(g.first), when(g.last)));
    if !g.people.is_empty() {
        out.push_str(&format!("    signed in: {}\n", g.people.join(", ")));
    }
    if leading {
        out.push_str("    (the verdict above)\n");
    } else {
        out.push_str(&format!("    likely layer: {} — {}\n", g.verdict.layer.as_str(), g.verdict.summary));
    }
}

/// The report: the window, the verdict, then every failure group.
pub fn text(d: &Diagnosis, since: &str) -> String {
    let mut out = String::new();
    let scope = d.meeting.as_ref().map(|m| format!(" about meeting {m}")).unwrap_or_default();
    let s = &d.spread;
    if s.reports == 0 {
        out.push_str(&format!("no failures reported in the last {since}{scope}\n"));
        return out;
    }
    out.push_str(&format!(
        "{} in the last {since}{scope}, from {} on {}\n",
        count(s.reports, "failure report", "failure reports"),
        count(s.people, "person", "people"),
        count(s.computers, "computer", "computers")
    ));
    if let Some(v) = &d.verdict {
        out.push_str("\nverdict (the failure most people share):\n");
        verdict_lines(&mut out, v, "  ");
    }
    out.push_str("\nby failure, most people first:\n");
    for (i, g) in d.groups.iter().enumerate() {
        group_lines(&mut out, g, i == 0);
    }
    out
}
