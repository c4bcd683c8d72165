//! The setup most end-to-end tests start from — a display with content, a server, a
//! meeting and a running share — in one call, torn down by Drop in the right order
//! (share, content, server, display).

use std::path::PathBuf;

use super::{PictureWindow, Proc, Server, Xvfb, typing_target, workdir, xdotool, xterm};

/// A running share of a real display.
pub struct Scene {
    /// The agent (`deskshare share`).
    pub share: Proc,
    /// Programs on the display, alive as long as the scene.
    _content: Vec<Box<dyn std::any::Any>>,
    /// Where text typed into the typing xterm lands (with [`SceneBuilder::typing`]).
    pub typed: PathBuf,
    pub join: String,
    pub presenter: String,
    pub server: Server,
    pub x: Xvfb,
    pub dir: PathBuf,
}

/// What a scene has; [`SceneBuilder::start`] makes it.
pub struct SceneBuilder {
    name: String,
    size: (u32, u32),
    typing: bool,
    xterms: Vec<(String, String)>,
    pictures: Vec<(i16, i16, u16, u16, u64)>,
    share: Vec<String>,
}

impl Scene {
    /// A scene named `name` (its work directory and meeting title): an 800×500 display,
    /// nothing on it, shared with `--allow-control auto`, unless told otherwise.
    pub fn build(name: &str) -> SceneBuilder {
        SceneBuilder {
            name: name.to_string(),
            size: (800, 500),
            typing: false,
            xterms: Vec::new(),
            pictures: Vec::new(),
            share: vec!["--allow-control".into(), "auto".into()],
        }
    }

    /// The text typed into the typing xterm so far.
    pub fn typed_text(&self) -> String {
        std::fs::read_to_string(&self.typed).unwrap_or_default()
    }
}

#[allow(dead_code)]
impl SceneBuilder {
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// An xterm at the top left whose typed lines land in [`Scene::typed`], with the
    /// pointer over it (focus follows the pointer).
    pub fn typing(mut self) -> Self {
        self.typing = true;
        self
    }

    /// An xterm with `geometry` running `command`, mapped before the share starts.
    pub fn xterm(mut self, geometry: &str, command: &str) -> Self {
        self.xterms.push((geometry.into(), command.into()));
        self
    }

    /// A window of seeded noise and gradients (see `PictureWindow`).
    pub fn picture(mut self, x: i16, y: i16, width: u16, height: u16, seed: u64) -> Self {
        self.pictures.push((x, y, width, height, seed));
        self
    }

    /// The `share` flags instead of `--allow-control auto`.
    pub fn share(mut self, flags: &[&str]) -> Self {
        self.share = flags.iter().map(|f| f.to_string()).collect();
        self
    }

    /// Starts everything and waits until each program's window is mapped and the share
    /// is running.
    pub fn start(self) -> Scene {
        let dir = workdir(&self.name.replace(' ', "_"));
        let typed = dir.join("typed.txt");
        let x = Xvfb::start(self.size.0, self.size.1).unwrap();
        let mut content: Vec<Box<dyn std::any::Any>> = Vec::new();
        for &(px, py, w, h, seed) in &self.pictures {
            content.push(Box::new(PictureWindow::show(&x.display, px, py, w, h, seed).unwrap()));
        }
        for (geometry, command) in &self.xterms {
            content.push(Box::new(xterm(&x.display, geometry, command)));
        }
        if self.typing {
            content.push(Box::new(typing_target(&x.display, &typed)));
        }
        let server = Server::start(&dir);
        let (join, presenter) = server.create_meeting(&self.name);
        let flags: Vec<&str> = self.share.iter().map(String::as_str).collect();
        let share = server.share(&presenter, &x.display, &flags);
        if self.typing {
            xdotool(&x.display, &["mousemove", "100", "60"]);
        }
        Scene { share, _content: content, typed, join, presenter, server, x, dir }
    }
}
