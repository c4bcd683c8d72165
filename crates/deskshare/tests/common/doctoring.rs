//! Running `deskshare doctor --json` and reading its report.

#![allow(dead_code)]

use std::process::Command;

use serde_json::Value;

use super::BIN;

/// Runs a prepared `doctor … --json` command; its report, checked against its exit status.
pub fn report_of(cmd: &mut Command) -> Value {
    let out = cmd.env_remove("DESKSHARE_TOKEN").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("doctor prints JSON ({e}): {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.success(), report["ok"].as_bool().unwrap(), "exit status follows the report");
    report
}

/// `deskshare doctor URL --json` with `extra` arguments and `env` (no proxy unless given).
pub fn doctor(url: &str, extra: &[&str], env: &[(&str, &str)]) -> (bool, Value) {
    let mut cmd = Command::new(BIN);
    cmd.args(["doctor", url, "--json"]).args(extra).env_remove("HTTPS_PROXY").env_remove("ALL_PROXY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let report = report_of(&mut cmd);
    (report["ok"].as_bool().unwrap(), report)
}

/// The hop and code of the first failed step, after checking that every later step was
/// skipped: doctor stops at the first broken hop.
pub fn broken_hop(report: &Value) -> (String, String) {
    let steps = report["steps"].as_array().unwrap();
    let at = steps.iter().position(|s| s["outcome"] == "fail").unwrap_or_else(|| panic!("a step fails: {report:#}"));
    for later in &steps[at + 1..] {
        assert_eq!(later["outcome"], "skip", "after the broken hop nothing more is checked: {later}");
    }
    let s = &steps[at];
    (s["hop"].as_str().unwrap().to_string(), s["failure"]["code"].as_str().unwrap().to_string())
}

/// The step for `hop`.
pub fn step<'a>(report: &'a Value, hop: &str) -> &'a Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["hop"] == hop).unwrap_or_else(|| panic!("no {hop} step"))
}
