//! The CLI's saved sign-ins (`deskshare login`), one per server, in the user's config
//! directory with mode 0600.

use std::collections::BTreeMap;
use std::path::PathBuf;

use deskshare_proto::{ErrorCode, WireError};
use serde::{Deserialize, Serialize};

/// One saved sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub name: String,
    pub token: String,
    /// The `--ca` file given at sign-in: later commands for this server trust it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
}

/// All saved sign-ins, by server base URL; `default` is the last one signed in to.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub servers: BTreeMap<String, Saved>,
}

/// `$DESKSHARE_CONFIG`, else `$XDG_CONFIG_HOME/deskshare`, else `~/.config/deskshare`.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DESKSHARE_CONFIG") {
        return Some(PathBuf::from(d));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("deskshare"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/deskshare"))
}

/// Writes a file only its owner may read (0600, in a 0700 directory): the config
/// directory holds tokens.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), WireError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |e: std::io::Error| WireError::new(ErrorCode::FileWriteFailed, format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(fail)?;
    }
    let mut f =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(fail)?;
    f.write_all(bytes).map_err(fail)
}

fn file() -> Option<PathBuf> {
    dir().map(|d| d.join("credentials.json"))
}

impl Credentials {
    pub fn load() -> Credentials {
        file().and_then(|f| std::fs::read(f).ok()).and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    pub fn save(&self) -> Result<PathBuf, WireError> {
        let path = file().ok_or_else(|| WireError::new(ErrorCode::FileWriteFailed, "no home or config directory"))?;
        write_private(&path, &serde_json::to_vec_pretty(self).expect("credentials serialise"))?;
        Ok(path)
    }

    /// The saved token for `server` (a base URL such as `https://h:8443/`).
    pub fn token_for(&self, server: &str) -> Option<String> {
        self.servers.get(server).map(|s| s.token.clone())
    }

    /// The `--ca` file remembered for `server`, if one was given at sign-in.
    pub fn ca_for(&self, server: &str) -> Option<PathBuf> {
        self.servers.get(server).and_then(|s| s.ca.clone())
    }
}
