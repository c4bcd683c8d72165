//! Helpers for end-to-end tests with real parts: an Xvfb display per test, a window
//! with a deterministic picture, and a screen grab that uses plain `GetImage` (not the
//! agent's MIT-SHM path), so tests compare against an independent truth.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// A running Xvfb, killed on drop.
pub struct Xvfb {
    pub display: String,
    child: Child,
}

impl Xvfb {
    /// Starts Xvfb with one screen of `width`×`height` at depth 24 on a free display.
    pub fn start(width: u32, height: u32) -> Result<Xvfb> {
        // Tests run as threads of one process: a process-wide counter keeps their display
        // numbers apart, the pid keeps concurrent processes apart.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        for _ in 0..50 {
            let n =
                100 + (std::process::id() % 400) * 16 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 16;
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([&display, "-screen", "0", &format!("{width}x{height}x24"), "-nolisten", "tcp", "-noreset"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting Xvfb (is the xvfb package installed?)")?;
            let mut x = Xvfb { display, child };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = x.child.try_wait() {
                    break; // lost a race for this display number
                }
                if x11rb::connect(Some(&x.display)).is_ok() {
                    std::thread::sleep(Duration::from_millis(100));
                    if let Ok(None) = x.child.try_wait() {
                        return Ok(x);
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!("could not start Xvfb")
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RGB image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Image {
    pub fn read_png(path: &Path) -> Result<Image> {
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| path.display().to_string())?,
        ));
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().context("png size")?];
        let info = reader.next_frame(&mut buf)?;
        let rgb = match info.color_type {
            png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
            png::ColorType::Rgba => {
                buf[..info.buffer_size()].chunks_exact(4).flat_map(|c| [c[0], c[1], c[2]]).collect()
            }
            other => bail!("unexpected PNG colour type {other:?}"),
        };
        Ok(Image { width: info.width, height: info.height, rgb })
    }

    pub fn write_png(&self, path: &Path) -> Result<()> {
        let mut enc = png::Encoder::new(std::io::BufWriter::new(std::fs::File::create(path)?), self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()?.write_image_data(&self.rgb)?;
        Ok(())
    }

    /// The `w`×`h` rectangle at (`x`, `y`).
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Image {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for row in y..y + h {
            let start = ((row * self.width + x) * 3) as usize;
            rgb.extend_from_slice(&self.rgb[start..start + (w * 3) as usize]);
        }
        Image { width: w, height: h, rgb }
    }

    /// An image from `0x00RRGGBB` pixels, like [`picture`] makes.
    pub fn from_pixels(width: u32, height: u32, pixels: &[u32]) -> Image {
        let rgb = pixels.iter().flat_map(|p| [(p >> 16) as u8, (p >> 8) as u8, *p as u8]).collect();
        Image { width, height, rgb }
    }

    /// Pixels that differ, for assertion messages.
    pub fn diff_count(&self, other: &Image) -> usize {
        if (self.width, self.height) != (other.width, other.height) {
            return usize::MAX;
        }
        self.rgb.chunks_exact(3).zip(other.rgb.chunks_exact(3)).filter(|(a, b)| a != b).count()
    }
}

/// The whole root window of `display`, by plain `GetImage`.
pub fn grab(display: &str) -> Result<Image> {
    let (conn, screen_num) = x11rb::connect(Some(display))?;
    let screen = &conn.setup().roots[screen_num];
    let geo = conn.get_geometry(screen.root)?.reply()?;
    // Fetch in bands: one GetImage reply may not exceed the maximum request length. The
    // server is grabbed meanwhile, so no client draws between two bands: the picture is
    // one moment of the screen, never torn (a scrolling terminal would tear it).
    let mut rgb = Vec::with_capacity(geo.width as usize * geo.height as usize * 3);
    let band = 64u16;
    let mut y = 0u16;
    conn.grab_server()?;
    while y < geo.height {
        let h = band.min(geo.height - y);
        let img = conn.get_image(ImageFormat::Z_PIXMAP, screen.root, 0, y as i16, geo.width, h, !0)?.reply()?;
        for px in img.data.chunks_exact(4).take(geo.width as usize * h as usize) {
            rgb.extend_from_slice(&[px[2], px[1], px[0]]);
        }
        y += h;
    }
    conn.ungrab_server()?;
    conn.flush()?;
    Ok(Image { width: geo.width.into(), height: geo.height.into(), rgb })
}

/// Deterministic picture: gradients, flat bands and noise, so every tile encoder is hit.
pub fn picture(width: u32, height: u32, seed: u64) -> Vec<u32> {
    let mut s = seed | 1;
    (0..width * height)
        .map(|i| {
            let (x, y) = (i % width, i / width);
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match (y / 40) % 4 {
                0 => ((x * 255 / width.max(1)) << 16) | (((y * 3) & 0xff) << 8) | (seed as u32 & 0xff),
                1 => (s as u32) & 0x00ff_ffff,
                2 => {
                    if (x / 8 + y / 8) % 2 == 0 {
                        0x00ff_ffff
                    } else {
                        0x0010_2030
                    }
                }
                _ => ((y & 0xff) << 16) | ((x & 0xff) << 8) | ((x ^ y) & 0xff),
            }
        })
        .collect()
}

/// A window showing [`picture`] at a fixed place; it stays while this value lives.
pub struct PictureWindow {
    conn: RustConnection,
    pub window: xproto::Window,
}

impl PictureWindow {
    pub fn show(display: &str, x: i16, y: i16, width: u16, height: u16, seed: u64) -> Result<PictureWindow> {
        let (conn, screen_num) = x11rb::connect(Some(display))?;
        let screen = conn.setup().roots[screen_num].clone();
        let window = conn.generate_id()?;
        // override_redirect: no window manager may move it, so its pixels land exactly here.
        conn.create_window(
            screen.root_depth,
            window,
            screen.root,
            x,
            y,
            width,
            height,
            0,
            xproto::WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &xproto::CreateWindowAux::new()
                .override_redirect(1)
                .background_pixel(0)
                .event_mask(xproto::EventMask::BUTTON_PRESS),
        )?;
        let title = format!("deskshare test picture {seed}");
        conn.change_property8(
            xproto::PropMode::REPLACE,
            window,
            xproto::AtomEnum::WM_NAME,
            xproto::AtomEnum::STRING,
            title.as_bytes(),
        )?;
        conn.map_window(window)?;
        let gc = conn.generate_id()?;
        conn.create_gc(gc, window, &xproto::CreateGCAux::new())?;
        conn.sync()?;
        std::thread::sleep(Duration::from_millis(100));
        let pixels = picture(width.into(), height.into(), seed);
        let rows_per_put = (200_000 / (usize::from(width) * 4)).max(1) as u16;
        let mut y0 = 0u16;
        while y0 < height {
            let h = rows_per_put.min(height - y0);
            let start = usize::from(y0) * usize::from(width);
            let data: Vec<u8> = pixels[start..start + usize::from(h) * usize::from(width)]
                .iter()
                .flat_map(|p| p.to_le_bytes())
                .collect();
            conn.put_image(ImageFormat::Z_PIXMAP, window, gc, width, h, 0, y0 as i16, 0, screen.root_depth, &data)?;
            y0 += h;
        }
        conn.sync()?;
        Ok(PictureWindow { conn, window })
    }

    /// Button presses the window received since the last call, in window coordinates.
    pub fn clicks(&self) -> Vec<(i16, i16, u8)> {
        let _ = self.conn.sync();
        let mut out = vec![];
        while let Ok(Some(ev)) = self.conn.poll_for_event() {
            if let x11rb::protocol::Event::ButtonPress(b) = ev {
                out.push((b.event_x, b.event_y, b.detail));
            }
        }
        out
    }

    /// Keeps the X connection (and so the window) alive for `d`.
    pub fn hold(&self, d: Duration) {
        std::thread::sleep(d);
        let _ = self.conn.flush();
    }
}

/// A TCP relay to `target` that can cut every connection through it, like a network
/// blip. Plain threads, no async runtime, so tests of any kind can use it.
pub struct CuttableProxy {
    pub port: u16,
    live: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CuttableProxy {
    pub fn start(target: std::net::SocketAddr) -> Result<CuttableProxy> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let live: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (live2, accepted2) = (live.clone(), accepted.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(upstream) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                accepted2.fetch_add(1, Ordering::Relaxed);
                let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                };
                let mut guard = live2.lock().unwrap();
                guard.push(client.try_clone().unwrap());
                guard.push(upstream.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                pipe(upstream, client);
            }
        });
        Ok(CuttableProxy { port, live, accepted })
    }

    /// Cuts every connection currently open through the proxy.
    pub fn cut(&self) {
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
