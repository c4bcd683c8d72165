//! `deskshare meeting create|list|show|update|delete`.

use clap::Subcommand;
use deskshare_proto::WireError;
use deskshare_proto::api::{CreateMeeting, MeetingSummary, UpdateMeeting};

use super::ServerArgs;

#[derive(Subcommand)]
pub enum MeetingCommand {
    /// Create a meeting and print its join and presenter URLs. Signed in, you become its
    /// organiser; with the admin token it has none.
    Create {
        #[arg(long)]
        title: Option<String>,
        /// Joiners must give this passcode.
        #[arg(long)]
        passcode: Option<String>,
        /// The meeting expires this many seconds from now.
        #[arg(long)]
        expires_in: Option<u64>,
        /// Print {"id","join_url","presenter_url"} as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List your meetings (all of them for administrators).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show one of your meetings.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Change a meeting's title, passcode (empty removes it) or expiry (0 removes it).
    Update {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        passcode: Option<String>,
        #[arg(long)]
        expires_in: Option<u64>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a meeting; everyone connected is told it ended.
    Delete {
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

fn print_summary(m: &MeetingSummary) {
    let expires = m.expires_at.map_or("never".to_string(), |t| format!("at unix time {t}"));
    println!(
        "{}  {}\n  join URL: {}\n  organiser: {}  passcode: {}  expires: {expires}",
        m.id,
        m.title,
        m.join_url,
        m.organiser.as_deref().unwrap_or("(admin token)"),
        if m.has_passcode { "yes" } else { "no" },
    );
}

fn json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string(v).expect("serialises"));
}

pub async fn run(command: MeetingCommand) -> Result<(), WireError> {
    match command {
        MeetingCommand::Create { title, passcode, expires_in, json: as_json, server } => {
            let m = server.api()?.create_meeting(&CreateMeeting { title, expires_in, passcode }).await?;
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
        MeetingCommand::Update { id, title, passcode, expires_in, server } => {
            let m = server.api()?.update_meeting(&id, &UpdateMeeting { title, passcode, expires_in }).await?;
            print_summary(&m);
        }
        MeetingCommand::Delete { id, server } => {
            server.api()?.delete_meeting(&id).await?;
            println!("meeting {id} deleted");
        }
    }
    Ok(())
}
