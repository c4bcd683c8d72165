//! Sends captured items to the server over one presenter session, reconnecting with
//! backoff. After each (re)connect the capture thread is asked for a keyframe, so the
//! server's cache is whole again whatever it lost.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deskshare_client::session::{Incoming, Session};
use deskshare_proto::{CursorShape, ErrorCode, MAX_MESSAGE_BYTES, Role, ServerMessage, WireError};
use tokio::sync::mpsc;

use crate::ShareOptions;
use crate::capture::{CaptureControl, Captured};
use crate::status::{ShareStats, StatusLine};

/// Codes after which trying again cannot help.
fn is_fatal(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::ConnectionLost
            | ErrorCode::ServerUnreachable
            | ErrorCode::ServerShuttingDown
            | ErrorCode::ServerError
    )
}

pub async fn run(
    opts: &ShareOptions,
    session: Session,
    mut rx: mpsc::Receiver<Captured>,
    control: Arc<CaptureControl>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<ShareStats, WireError> {
    tokio::pin!(shutdown);
    let mut stats = ShareStats::default();
    let mut status = StatusLine::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut backoff = Duration::from_millis(200);
    let mut cursor: Option<CursorShape> = None;
    let mut first = true;
    let mut initial = Some(session);
    loop {
        let session = match initial.take() {
            Some(s) => Ok(s),
            None => {
                let connect =
                    Session::connect(&opts.link, &opts.tls, Role::Presenter, opts.name.clone());
                tokio::select! {
                    s = connect => s,
                    _ = &mut shutdown => break,
                }
            }
        };
        let mut session = match session {
            Ok(s) => s,
            Err(e) if is_fatal(e.code) => return Err(e),
            Err(e) => {
                eprintln!("{} (retrying in {} ms)", e.explain(), backoff.as_millis());
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = &mut shutdown => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        let first_connection = first;
        if first {
            eprintln!("sharing; viewers join at {}", opts.link.join_url());
            first = false;
        } else {
            stats.reconnects += 1;
            eprintln!("reconnected");
        }
        // The first frame ever captured is a keyframe already; after a reconnect, ask for
        // one, since the server may have lost its cache.
        let mut need_keyframe = !first_connection;
        if need_keyframe {
            control.keyframe.store(true, Ordering::Relaxed);
        }
        if let Some(shape) = &cursor
            && let Err(e) = session.send_binary(shape.encode()).await
        {
            eprintln!("{}", e.explain());
            continue;
        }
        let ended = loop {
            tokio::select! {
                item = rx.recv() => {
                    let Some(item) = item else { break Ok(true) };
                    let bytes = match item {
                        Captured::Frame(f) => {
                            // Frames captured before the keyframe request are stale deltas.
                            if need_keyframe && !f.header.keyframe {
                                continue;
                            }
                            need_keyframe = false;
                            stats.frames += 1;
                            f.encode()
                        }
                        Captured::CursorShape(s) => {
                            let b = s.encode();
                            cursor = Some(s);
                            b
                        }
                        Captured::CursorPosition(p) => p.encode().to_vec(),
                    };
                    if bytes.len() > MAX_MESSAGE_BYTES {
                        return Err(WireError::new(
                            ErrorCode::MessageTooLarge,
                            format!("one screen update encoded to {} bytes; the limit is {MAX_MESSAGE_BYTES}", bytes.len()),
                        ));
                    }
                    stats.bytes += bytes.len() as u64;
                    if let Err(e) = session.send_binary(bytes).await {
                        break Err(e);
                    }
                }
                incoming = session.recv() => match incoming {
                    Ok(Incoming::Control(ServerMessage::Viewers { count })) => stats.viewers = count,
                    Ok(_) => {}
                    Err(e) => break Err(e),
                },
                _ = tick.tick() => status.print(&stats, true),
                _ = &mut shutdown => {
                    session.close().await;
                    status.finish(&stats);
                    return Ok(stats);
                }
            }
        };
        match ended {
            Ok(_) => break, // capture ended
            Err(e) if is_fatal(e.code) => return Err(e),
            Err(e) => {
                eprintln!("{} (reconnecting)", e.explain());
                status.print(&stats, false);
            }
        }
    }
    status.finish(&stats);
    Ok(stats)
}
