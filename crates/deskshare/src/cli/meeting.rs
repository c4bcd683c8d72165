//! `deskshare meeting create|list|show|update|delete`.

use clap::Subcommand;
use deskshare_proto::WireError;
use deskshare_proto::api::{MeetingSettings, MeetingSummary};

use super::ServerArgs;

/// A meeting's settings, for `create` and `update`.
#[derive(clap::Args)]
pub struct Settings {
    /// The meeting's title, shown to everyone who joins.
    #[arg(long)]
    title: Option<String>,
    /// Joiners must give this passcode.
    #[arg(long)]
    passcode: Option<String>,
    /// The meeting expires this many seconds from now.
    #[arg(long)]
    expires_in: Option<u64>,
    /// Who waits in the lobby until admitted: off (default), guests or everyone.
    #[arg(long)]
    lobby: Option<String>,
    /// Who skips the lobby: signed-in, or domain:example.org (repeatable).
    #[arg(long)]
    admit: Vec<String>,
    /// A policy for this meeting only, e.g. allow-control=off (repeatable; `unset`
    /// removes it). Organisers may make policies stricter than their own, not looser.
    #[arg(long = "policy", value_name = "NAME=VALUE", value_parser = name_value)]
    policies: Vec<(String, String)>,
}

fn name_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

impl From<Settings> for MeetingSettings {
    fn from(s: Settings) -> Self {
        let admit = match s.admit.as_slice() {
            [] => None,
            [none] if none == "none" => Some(vec![]),
            _ => Some(s.admit),
        };
        let policies = (!s.policies.is_empty()).then(|| s.policies.into_iter().collect());
        MeetingSettings {
            title: s.title,
            expires_in: s.expires_in,
            passcode: s.passcode,
            lobby: s.lobby,
            admit,
            policies,
        }
    }
}

#[derive(Subcommand)]
pub enum MeetingCommand {
    /// Create a meeting and print its join and presenter URLs. Signed in, you become its
    /// organiser; with the admin token it has none.
    Create {
        #[command(flatten)]
        settings: Settings,
        /// Print {"id","join_url","presenter_url"} as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List your meetings (all of them for administrators).
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show one of your meetings.
    Show {
        /// The meeting's id (the last part of its link).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Change a meeting's title, passcode (empty removes it), expiry (0 removes it),
    /// lobby or admission rules (`--admit none` clears them).
    Update {
        /// The meeting's id (the last part of its link).
        id: String,
        #[command(flatten)]
        settings: Settings,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Who is in a live meeting, and who waits in its lobby (organisers and presenters).
    Roster {
        /// The meeting's id (the last part of its link).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print the meeting's chat, as kept with it (also after the meeting).
    Chat {
        /// The meeting's id (the last part of its link).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Let someone in from the lobby.
    Admit {
        /// The meeting's id (the last part of its link).
        id: String,
        /// The participant's number, as `meeting roster` shows it.
        participant: deskshare_proto::ParticipantId,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Turn someone in the lobby away.
    Deny {
        /// The meeting's id (the last part of its link).
        id: String,
        /// The participant's number, as `meeting roster` shows it.
        participant: deskshare_proto::ParticipantId,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Make a participant a presenter (a signed-in user keeps the role in this meeting).
    Promote {
        /// The meeting's id (the last part of its link).
        id: String,
        /// The participant's number, as `meeting roster` shows it.
        participant: deskshare_proto::ParticipantId,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Make a presenter an attendee again.
    Demote {
        /// The meeting's id (the last part of its link).
        id: String,
        /// The participant's number, as `meeting roster` shows it.
        participant: deskshare_proto::ParticipantId,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Remove a participant from the meeting.
    Remove {
        /// The meeting's id (the last part of its link).
        id: String,
        /// The participant's number, as `meeting roster` shows it.
        participant: deskshare_proto::ParticipantId,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// End the meeting for everyone connected (it can start again later).
    End {
        /// The meeting's id (the last part of its link).
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a meeting; everyone connected is told it ended.
    Delete {
        /// The meeting's id (the last part of its link).
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

fn print_summary(m: &MeetingSummary) {
    let expires = m.expires_at.map_or("never".to_string(), |t| format!("at unix time {t}"));
    let admit = if m.admit.is_empty() { "-".to_string() } else { m.admit.join(", ") };
    println!(
        "{}  {}\n  join URL: {}\n  organiser: {}  passcode: {}  expires: {expires}\n  lobby: {}  straight in: {admit}",
        m.id,
        m.title,
        m.join_url,
        m.organiser.as_deref().unwrap_or("(admin token)"),
        if m.has_passcode { "yes" } else { "no" },
        m.lobby,
    );
}

fn print_roster(list: &[deskshare_proto::RosterEntry]) {
    for p in list {
        let mut tags = vec![format!("{:?}", p.role).to_lowercase()];
        if p.guest {
            tags.push("guest".into());
        }
        if p.presenting {
            tags.push("presenting".into());
        }
        if p.in_lobby {
            tags.push("in lobby".into());
        }
        println!("{:>4}  {:<28} {}", p.participant, p.name, tags.join(", "));
    }
}

fn json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string(v).expect("serialises"));
}

pub async fn run(command: MeetingCommand) -> Result<(), WireError> {
    match command {
        MeetingCommand::Create { settings, json: as_json, server } => {
            let m = server.api()?.create_meeting(&settings.into()).await?;
            if as_json {
                json(&serde_json::json!({ "id": m.id, "join_url": m.join_url, "presenter_url": m.presenter_url }));
            } else {
                println!("meeting \"{}\" created", m.title);
                println!("join URL (for viewers):          {}", m.join_url);
                println!("presenter URL (keep it private): {}", m.presenter_url);
            }
        }
        MeetingCommand::List { json: as_json, server } => {
            let list = server.api()?.meetings().await?;
            if as_json {
                json(&list);
            } else if list.is_empty() {
                println!("no meetings");
            } else {
                list.iter().for_each(print_summary);
            }
        }
        MeetingCommand::Show { id, json: as_json, server } => {
            let m = server.api()?.meeting(&id).await?;
            if as_json { json(&m) } else { print_summary(&m) }
        }
        MeetingCommand::Update { id, settings, server } => {
            let m = server.api()?.update_meeting(&id, &settings.into()).await?;
            print_summary(&m);
        }
        MeetingCommand::Roster { id, json: as_json, server } => {
            let roster = server.api()?.roster(&id).await?;
            if as_json { json(&roster) } else { print_roster(&roster) }
        }
        MeetingCommand::Chat { id, json: as_json, server } => {
            let lines = server.api()?.chat(&id).await?;
            if as_json {
                json(&lines)
            } else {
                for l in &lines {
                    let guest = if l.guest { " (guest)" } else { "" };
                    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(l.at.max(0) as u64);
                    println!("[{}] {}{guest}: {}", httpdate::fmt_http_date(at), l.from, l.text);
                }
            }
        }
        MeetingCommand::Admit { id, participant, server } => {
            print_roster(&server.api()?.act(&id, participant, "admit").await?)
        }
        MeetingCommand::Deny { id, participant, server } => {
            print_roster(&server.api()?.act(&id, participant, "deny").await?)
        }
        MeetingCommand::Promote { id, participant, server } => {
            print_roster(&server.api()?.act(&id, participant, "promote").await?)
        }
        MeetingCommand::Demote { id, participant, server } => {
            print_roster(&server.api()?.act(&id, participant, "demote").await?)
        }
        MeetingCommand::Remove { id, participant, server } => {
            print_roster(&server.api()?.act(&id, participant, "remove").await?)
        }
        MeetingCommand::End { id, server } => {
            server.api()?.end_meeting(&id).await?;
            println!("meeting {id} ended");
        }
        MeetingCommand::Delete { id, server } => {
            server.api()?.delete_meeting(&id).await?;
            println!("meeting {id} deleted");
        }
    }
    Ok(())
}
