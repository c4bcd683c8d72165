//! One group's verdict: the scoping table's rows, in the order support asks them.

use std::collections::BTreeMap;

use deskshare_proto::ErrorCode;
use deskshare_proto::report::{ClientKind, Hop, Layer, Spread, Verdict};

/// "1 report", "3 reports".
pub fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The verdict for the reports of one code at one hop.
///
/// The rows, first match wins:
/// 1. a refusal by rule (sign-in, meeting, policy) is the account / identity / policy
///    layer however many people meet it — nothing is broken, something says no;
/// 2. one person on one computer → that computer;
/// 3. one person on several computers → it follows the person: their account;
/// 4. many people, all outside (or all inside) → the network path they share;
/// 5. many people on both sides who cannot connect at all (DNS, TCP) → an outage;
/// 6. … whose TLS fails → the server's certificate; whose clocks all look wrong → the
///    server's clock; whose displays fail → the presenters' computers' common setup;
/// 7. many people with no ranges configured and a network hop → the network path,
///    unplaced until `--internal-network` says which side each is on;
/// 8. otherwise → the server.
pub fn judge(code: &str, hop: Hop, s: &Spread, internal_ranges: bool, clients: &BTreeMap<ClientKind, u32>) -> Verdict {
    let known = ErrorCode::parse(code);
    let mut evidence = vec![format!(
        "{} from {} on {}",
        plural(s.reports, "report", "reports"),
        plural(s.people, "person", "people"),
        plural(s.computers, "computer", "computers")
    )];
    evidence.push(if !internal_ranges {
        "inside or outside not known: no `serve --internal-network` ranges are configured".to_string()
    } else if s.unknown > 0 {
        format!("{} inside, {} outside, {} from before ranges were configured", s.inside, s.outside, s.unknown)
    } else {
        format!("{} inside the organisation, {} outside", s.inside, s.outside)
    });
    evidence.push(match known {
        Some(c) => format!("{code} at the {} hop: {}", hop.as_str(), c.cause()),
        None => format!("{code} at the {} hop (a code this server does not know: a newer client?)", hop.as_str()),
    });
    let by_client: Vec<String> = clients.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    evidence.push(format!("clients: {}", by_client.join(", ")));

    let many = s.people > 1;
    let all_outside = internal_ranges && s.unknown == 0 && s.outside > 0 && s.inside == 0;
    let all_inside = internal_ranges && s.unknown == 0 && s.inside > 0 && s.outside == 0;
    let code_remedy = known.map(|c| c.remedy().to_string());
    let (layer, summary, next) = match hop {
        Hop::SignIn | Hop::Meeting | Hop::Policy => (
            Layer::Account,
            if many {
                format!(
                    "{} are refused with {code}: a rule says no — the meeting's settings, a policy or the sign-in \
                     service — not the network or a computer",
                    plural(s.people, "person", "people")
                )
            } else {
                format!(
                    "one person is refused with {code}: their account, their sign-in or the rule that applies to them"
                )
            },
            match hop {
                Hop::SignIn => "check the account: `deskshare admin user list` (disabled? the right name?)".to_string(),
                _ => "check the meeting and what applies in it: `deskshare admin policy show --meeting ID`".to_string(),
            },
        ),
        _ if s.people <= 1 && s.computers <= 1 => (
            Layer::ClientMachine,
            "one person on one computer: look at that computer — its proxy and network settings, its clock, the \
             certificates it trusts, the program's version"
                .to_string(),
            "run `deskshare doctor LINK` (or open /check in the browser) on that computer".to_string(),
        ),
        _ if !many => (
            Layer::Account,
            format!(
                "one person fails on {} computers: it follows the person, not a computer — their account, sign-in \
                 or policy",
                s.computers
            ),
            "check the account and the policies that apply to it: `deskshare admin policy show --user NAME`"
                .to_string(),
        ),
        _ if all_outside => (
            Layer::NetworkPath,
            format!(
                "only people outside the organisation fail ({}, none inside): the way in from outside — public DNS, \
                 the firewall or the reverse proxy in front of the server",
                plural(s.people, "person", "people")
            ),
            "run `deskshare doctor LINK` from outside (e.g. a phone's hotspot) and compare with inside".to_string(),
        ),
        _ if all_inside => (
            Layer::NetworkPath,
            format!(
                "only people inside the organisation fail ({}, none outside): the internal way out — the corporate \
                 proxy, internal DNS or a firewall",
                plural(s.people, "person", "people")
            ),
            "run `deskshare doctor LINK` inside with and without the proxy (HTTPS_PROXY, NO_PROXY)".to_string(),
        ),
        Hop::Dns | Hop::Tcp => (
            Layer::Outage,
            format!(
                "{} {}cannot reach the server at all: it is down, or its name or port is",
                plural(s.people, "person", "people"),
                if internal_ranges { "inside and outside " } else { "" }
            ),
            "check that `deskshare serve` runs and answers `GET /healthz`, that the name resolves and the port is open"
                .to_string(),
        ),
        Hop::Tls => (
            Layer::Server,
            format!(
                "{} {}fail TLS with {code}: the server's certificate, not one network or computer",
                plural(s.people, "person", "people"),
                if internal_ranges { "inside and outside " } else { "" }
            ),
            "see `GET /api/admin/health` (the self-check); renew or replace the certificate".to_string(),
        ),
        Hop::Clock => (
            Layer::Server,
            "many people's clocks disagree with the server's by the same margin: the server's clock is probably wrong"
                .to_string(),
            "check the server's time (NTP)".to_string(),
        ),
        Hop::Display => (
            Layer::ClientMachine,
            format!(
                "{} presenters' displays fail with {code}: a setup their computers share (the X server, its extensions)",
                s.people
            ),
            code_remedy.clone().unwrap_or_else(|| "run `deskshare doctor PRESENTER-LINK` on one of them".to_string()),
        ),
        Hop::Proxy | Hop::Websocket | Hop::Http | Hop::Media if !internal_ranges => (
            Layer::NetworkPath,
            format!(
                "{} fail on the network path ({}); which path is not known without `serve --internal-network`",
                plural(s.people, "person", "people"),
                hop.as_str()
            ),
            "configure `serve --internal-network` with the organisation's ranges, then run diagnose again".to_string(),
        ),
        _ => (
            Layer::Server,
            format!(
                "{} {}fail with {code}: the server, or what sits in front of all of them",
                plural(s.people, "person", "people"),
                if internal_ranges { "inside and outside " } else { "" }
            ),
            code_remedy.clone().unwrap_or_else(|| "look at the server's log around these times".to_string()),
        ),
    };
    Verdict { layer, summary, next, evidence }
}
