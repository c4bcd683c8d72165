//! Real network parts for the connectivity tests: tinyproxy as a corporate CONNECT
//! proxy, nginx as a reverse proxy, a packet filter, and a network namespace whose only
//! way out is the proxy. They need root (the test script runs as root, or with sudo).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::Proc;

/// Fails the test with a clear reason when not root: these faults cannot be made
/// otherwise, and a skipped test would pass without checking anything.
pub fn require_root() {
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    assert_eq!(String::from_utf8_lossy(&uid.stdout).trim(), "0", "the network tests need root (ip netns, iptables)");
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(st.success(), "{args:?} failed");
}

/// Waits until something accepts connections at `addr`.
pub fn wait_listening(addr: &str) {
    super::eventually(&format!("{addr} to listen"), Duration::from_secs(20), || {
        std::net::TcpStream::connect(addr).is_ok()
    });
}

/// tinyproxy in the foreground, on `listen:port`.
pub struct Tinyproxy {
    pub port: u16,
    pub listen: String,
    _proc: Proc,
}

impl Tinyproxy {
    /// Allows CONNECT to `connect_ports` only (all ports if empty), from `allow`
    /// (a CIDR), with Basic credentials if given.
    pub fn start(dir: &Path, listen: &str, allow: &str, connect_ports: &[u16], auth: Option<(&str, &str)>) -> Self {
        let port = free_port();
        let mut conf = format!(
            "Port {port}\nListen {listen}\nTimeout 60\nMaxClients 64\nLogLevel Info\nAllow {allow}\nDisableViaHeader Yes\n"
        );
        for p in connect_ports {
            conf.push_str(&format!("ConnectPort {p}\n"));
        }
        if let Some((user, password)) = auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let path = dir.join(format!("tinyproxy-{port}.conf"));
        std::fs::write(&path, conf).unwrap();
        let proc = Proc::spawn_logged("tinyproxy", Command::new("tinyproxy").arg("-d").arg("-c").arg(&path));
        wait_listening(&format!("{listen}:{port}"));
        Tinyproxy { port, listen: listen.to_string(), _proc: proc }
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.listen, self.port)
    }
}

/// nginx on `port`, terminating TLS with the server's own certificate and passing
/// requests on to `upstream`: set up for WebSocket and X-Forwarded-For as the deskshare
/// docs say, or (`websocket: false`) as an nginx nobody set up for WebSocket.
pub struct Nginx {
    pub port: u16,
    _proc: Proc,
}

impl Nginx {
    pub fn start(dir: &Path, port: u16, cert: &Path, key: &Path, upstream: &str, websocket: bool) -> Self {
        let extra = if websocket {
            "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade; \
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; \
             proxy_read_timeout 3600s;"
        } else {
            ""
        };
        let root = dir.join(format!("nginx-{port}"));
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let r = root.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/error.log;\nevents {{}}\n\
             http {{\n  access_log off;\n  client_body_temp_path {r}/tmp;\n  proxy_temp_path {r}/tmp;\n\
             fastcgi_temp_path {r}/tmp;\n  uwsgi_temp_path {r}/tmp;\n  scgi_temp_path {r}/tmp;\n\
             server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n\
             location / {{ proxy_pass {upstream}; proxy_ssl_verify off; {extra} }}\n  }}\n}}\n",
            cert.display(),
            key.display()
        );
        let path = root.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let proc = Proc::spawn_logged("nginx", Command::new("nginx").arg("-p").arg(&root).arg("-c").arg(&path));
        wait_listening(&format!("127.0.0.1:{port}"));
        Nginx { port, _proc: proc }
    }
}

/// Drops every packet to a local TCP port while it lives (a firewall that filters).
pub struct Filtered {
    port: u16,
}

impl Filtered {
    pub fn port(port: u16) -> Self {
        let p = port.to_string();
        run(&["iptables", "-I", "INPUT", "-p", "tcp", "-i", "lo", "--dport", &p, "-j", "DROP"]);
        Filtered { port }
    }
}

impl Drop for Filtered {
    fn drop(&mut self) {
        let p = self.port.to_string();
        let _ = Command::new("iptables")
            .args(["-D", "INPUT", "-p", "tcp", "-i", "lo", "--dport", &p, "-j", "DROP"])
            .status();
    }
}

/// A network namespace joined to this one by a veth pair on 10.201.N.0/24 and nothing
/// else: no default route, so from inside only 10.201.N.1 (this side) is reachable.
pub struct Namespace {
    pub name: String,
    pub host_ip: String,
    pub inside_ip: String,
}

impl Namespace {
    pub fn create(tag: &str) -> Self {
        let n = std::process::id() % 250 + 1;
        let name = format!("ds-{tag}-{}", std::process::id());
        let (host_if, ns_if) = (format!("vh{}", std::process::id()), format!("vn{}", std::process::id()));
        let (host_ip, inside_ip) = (format!("10.201.{n}.1"), format!("10.201.{n}.2"));
        // A namespace left by a killed run of this process id, if any.
        let _ = Command::new("ip").args(["netns", "del", &name]).stderr(std::process::Stdio::null()).status();
        run(&["ip", "netns", "add", &name]);
        run(&["ip", "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if]);
        run(&["ip", "link", "set", &ns_if, "netns", &name]);
        run(&["ip", "addr", "add", &format!("{host_ip}/24"), "dev", &host_if]);
        run(&["ip", "link", "set", &host_if, "up"]);
        run(&["ip", "netns", "exec", &name, "ip", "addr", "add", &format!("{inside_ip}/24"), "dev", &ns_if]);
        run(&["ip", "netns", "exec", &name, "ip", "link", "set", &ns_if, "up"]);
        run(&["ip", "netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        Namespace { name, host_ip, inside_ip }
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the veth pair, and so the pair.
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}
