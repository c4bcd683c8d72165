use deskshare_proto::report::{ClientKind, Hop, Layer, Network};

use super::*;

fn fact(code: &str, user: Option<&str>, installation: &str, network: Network, at: i64) -> Fact {
    let hop = Hop::of(deskshare_proto::ErrorCode::parse(code).unwrap()).unwrap();
    Fact {
        code: code.into(),
        hop,
        client: ClientKind::Browser,
        installation: installation.into(),
        user: user.map(String::from),
        network,
        at,
    }
}

fn layer(facts: &[Fact], ranges: bool) -> Layer {
    diagnose(facts, 0, 100, None, ranges).verdict.expect("reports give a verdict").layer
}

#[test]
fn one_person_on_one_computer_is_that_computer() {
    let facts: Vec<Fact> =
        (0..4).map(|i| fact("WEBSOCKET_BLOCKED", Some("alice"), "pc-1", Network::Inside, i)).collect();
    let d = diagnose(&facts, 0, 100, None, true);
    let v = d.verdict.unwrap();
    assert_eq!(v.layer, Layer::ClientMachine);
    assert_eq!(v.evidence[0], "4 reports from 1 person on 1 computer");
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.groups[0].people, vec!["alice".to_string()]);
    assert_eq!((d.groups[0].first, d.groups[0].last), (0, 3));
}

#[test]
fn one_person_on_many_computers_is_their_account() {
    let facts = vec![
        fact("CONNECTION_LOST", Some("bob"), "pc-1", Network::Inside, 1),
        fact("CONNECTION_LOST", Some("bob"), "laptop", Network::Outside, 2),
    ];
    assert_eq!(layer(&facts, true), Layer::Account);
}

#[test]
fn only_outside_is_the_way_in_and_only_inside_the_way_out() {
    let outside: Vec<Fact> =
        (0..5).map(|i| fact("WEBSOCKET_BLOCKED", None, &format!("guest-{i}"), Network::Outside, i)).collect();
    let d = diagnose(&outside, 0, 100, None, true);
    let v = d.verdict.unwrap();
    assert_eq!(v.layer, Layer::NetworkPath);
    assert!(v.summary.contains("outside"), "{}", v.summary);
    assert_eq!(v.evidence[1], "0 inside the organisation, 5 outside");
    let inside: Vec<Fact> =
        (0..3).map(|i| fact("PROXY_REFUSED", Some(&format!("u{i}")), &format!("pc{i}"), Network::Inside, i)).collect();
    let v = diagnose(&inside, 0, 100, None, true).verdict.unwrap();
    assert_eq!(v.layer, Layer::NetworkPath);
    assert!(v.summary.contains("corporate proxy"), "{}", v.summary);
}

#[test]
fn everyone_is_the_server_or_an_outage() {
    let everyone = |code: &str| -> Vec<Fact> {
        (0..6)
            .map(|i| {
                let net = if i % 2 == 0 { Network::Inside } else { Network::Outside };
                fact(code, Some(&format!("u{i}")), &format!("pc{i}"), net, i)
            })
            .collect()
    };
    assert_eq!(layer(&everyone("TLS_CERTIFICATE_EXPIRED"), true), Layer::Server);
    assert_eq!(layer(&everyone("CONNECTION_REFUSED"), true), Layer::Outage);
    assert_eq!(layer(&everyone("CONNECT_TIMEOUT"), true), Layer::Outage);
    assert_eq!(layer(&everyone("NO_FRAME_TIMEOUT"), true), Layer::Server);
    // Many clocks off by the same margin: the server's clock.
    assert_eq!(layer(&everyone("CLOCK_SKEW"), true), Layer::Server);
}

#[test]
fn a_rule_that_refuses_is_policy_however_many_meet_it() {
    let facts: Vec<Fact> =
        (0..4).map(|i| fact("ANONYMOUS_NOT_ALLOWED", None, &format!("g{i}"), Network::Outside, i)).collect();
    let v = diagnose(&facts, 0, 100, None, true).verdict.unwrap();
    assert_eq!(v.layer, Layer::Account);
    assert!(v.next.contains("policy show"), "{}", v.next);
    assert_eq!(layer(&facts[..1], true), Layer::Account);
}

#[test]
fn without_ranges_the_path_is_unplaced_but_still_named() {
    let facts: Vec<Fact> =
        (0..3).map(|i| fact("WEBSOCKET_BLOCKED", None, &format!("g{i}"), Network::Unknown, i)).collect();
    let v = diagnose(&facts, 0, 100, None, false).verdict.unwrap();
    assert_eq!(v.layer, Layer::NetworkPath);
    assert!(v.next.contains("--internal-network"));
    assert!(v.evidence[1].starts_with("inside or outside not known"));
}

#[test]
fn the_window_verdict_is_the_failure_most_people_share() {
    let mut facts = vec![
        // One person with an odd problem, reported often…
        fact("DISPLAY_EXTENSION_MISSING", Some("carol"), "pc-c", Network::Inside, 1),
        fact("DISPLAY_EXTENSION_MISSING", Some("carol"), "pc-c", Network::Inside, 2),
        fact("DISPLAY_EXTENSION_MISSING", Some("carol"), "pc-c", Network::Inside, 3),
    ];
    // …and three outside guests who cannot get in.
    facts.extend((0..3).map(|i| fact("WEBSOCKET_BLOCKED", None, &format!("g{i}"), Network::Outside, 10 + i)));
    let d = diagnose(&facts, 0, 100, Some("m1".into()), true);
    assert_eq!(d.groups.len(), 2);
    assert_eq!(d.groups[0].code, "WEBSOCKET_BLOCKED");
    assert_eq!(d.verdict.as_ref().unwrap().layer, Layer::NetworkPath);
    assert_eq!(d.groups[1].verdict.layer, Layer::ClientMachine);
    assert_eq!(d.spread.reports, 6);
    assert_eq!(d.spread.people, 4);
    assert_eq!(d.meeting.as_deref(), Some("m1"));
}

#[test]
fn guests_count_one_person_per_computer_and_names_are_bounded() {
    let facts: Vec<Fact> = (0..15)
        .map(|i| fact("CONNECTION_LOST", Some(&format!("user{i:02}")), &format!("pc{i}"), Network::Inside, i))
        .chain((0..2).map(|i| fact("CONNECTION_LOST", None, &format!("guest{i}"), Network::Inside, i)))
        .collect();
    let d = diagnose(&facts, 0, 100, None, true);
    assert_eq!(d.spread.people, 17);
    assert_eq!(d.groups[0].people.len(), NAMES_LISTED);
}

#[test]
fn no_reports_no_verdict() {
    let d = diagnose(&[], 0, 100, None, true);
    assert!(d.verdict.is_none() && d.groups.is_empty());
    assert_eq!(d.spread.reports, 0);
}

#[test]
fn an_unknown_code_is_judged_by_its_hop() {
    let mut f = fact("CONNECTION_LOST", None, "g1", Network::Outside, 1);
    f.code = "SOMETHING_NEW".into();
    let v = diagnose(&[f], 0, 10, None, true).verdict.unwrap();
    assert_eq!(v.layer, Layer::ClientMachine);
    assert!(v.evidence[2].contains("does not know"));
}

#[test]
fn since_parses_units_and_refuses_the_rest() {
    assert_eq!(parse_since("1h"), Ok(3600));
    assert_eq!(parse_since("30m"), Ok(1800));
    assert_eq!(parse_since("2d"), Ok(172_800));
    assert_eq!(parse_since("90"), Ok(90));
    assert!(parse_since("0").is_err());
    assert!(parse_since("1y").is_err());
    assert!(parse_since("h").is_err());
    assert!(parse_since("100d").is_err());
    assert!(parse_since("99999999999999999999w").is_err());
}
