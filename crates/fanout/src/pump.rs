//! The per-viewer pacing state machine.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use deskshare_proto::{CursorPosition, VideoCodec};

use crate::{Quality, Screen, Update, VideoSync};

/// Unacknowledged screen updates a viewer may have in flight. Two keeps a fast viewer's
/// pipe busy (one being drawn, one on the wire) while a slow one skips ahead.
pub const DEFAULT_WINDOW: usize = 2;

/// A viewer whose round trip is longer than this, or that is more than
/// [`REDUCED_BEHIND`] versions behind when it may take the next update, gets lossy
/// areas at [`Quality::Reduced`].
pub const REDUCED_RTT: Duration = Duration::from_millis(250);
pub const REDUCED_BEHIND: u64 = 3;

/// What a viewer did wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PumpError {
    #[error("ack for frame {acked}, but only frames up to {sent} were sent")]
    AckUnsent { acked: u64, sent: u64 },
}

/// What to send a viewer next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PumpOutput {
    /// An already encoded cursor shape message.
    CursorShape(Bytes),
    /// A screen update; send it whole.
    Frame(Update),
    CursorPosition(CursorPosition),
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    frame: u64,
    sent_at: Instant,
}

/// Decides, for one viewer, what to send and when.
///
/// Drive it like a quinn-proto connection: after anything changes (a new frame in the
/// [`Screen`], an ack from the viewer, a finished send) call [`ViewerPump::poll`] until it
/// returns `None`.
#[derive(Debug)]
pub struct ViewerPump {
    window: usize,
    /// Newest screen version sent to this viewer.
    sent: u64,
    /// The screen's tile-update counter when `sent` was sent, to count skipped tiles.
    tile_updates_at_sent: u64,
    in_flight: VecDeque<InFlight>,
    rtt: Option<Duration>,
    cursor_shape_sent: u64,
    cursor_position_sent: u64,
    frames_sent: u64,
    tiles_skipped: u64,
    video: VideoSync,
}

impl ViewerPump {
    pub fn new(window: usize) -> Self {
        ViewerPump {
            window: window.max(1),
            sent: 0,
            tile_updates_at_sent: 0,
            in_flight: VecDeque::new(),
            rtt: None,
            cursor_shape_sent: 0,
            cursor_position_sent: 0,
            frames_sent: 0,
            tiles_skipped: 0,
            video: VideoSync::default(),
        }
    }

    /// The video codecs the viewer decodes (its hello said so): it gets streams in
    /// these, and any other stream's area as JPEG.
    pub fn set_video_codecs(&mut self, codecs: &[VideoCodec]) {
        self.video.codecs = codecs.to_vec();
    }

    /// The next message for this viewer, if any may be sent now.
    pub fn poll(&mut self, screen: &mut Screen, now: Instant) -> Option<PumpOutput> {
        if let Some((serial, bytes)) = screen.cursor_shape()
            && *serial > self.cursor_shape_sent
        {
            self.cursor_shape_sent = *serial;
            return Some(PumpOutput::CursorShape(bytes.clone()));
        }
        if self.in_flight.len() < self.window
            && let Some(mut frame) =
                screen.update_since(self.sent, now, self.quality(screen.version()), &mut self.video)
        {
            let updates = screen.tile_updates();
            if frame.kind == crate::UpdateKind::CatchUp && !frame.header.keyframe {
                let superseded = updates - self.tile_updates_at_sent;
                frame.header.skipped_tiles =
                    superseded.saturating_sub(frame.op_count as u64).min(u64::from(u32::MAX)) as u32;
            }
            self.tiles_skipped += u64::from(frame.header.skipped_tiles);
            frame.header.rtt_ms = self.rtt.map_or(0, |d| d.as_millis().min(u128::from(u32::MAX)) as u32);
            self.sent = frame.header.frame;
            self.tile_updates_at_sent = updates;
            self.frames_sent += 1;
            self.in_flight.push_back(InFlight { frame: self.sent, sent_at: now });
            return Some(PumpOutput::Frame(frame));
        }
        if let Some((serial, pos)) = screen.cursor_position()
            && serial > self.cursor_position_sent
        {
            self.cursor_position_sent = serial;
            return Some(PumpOutput::CursorPosition(pos));
        }
        None
    }

    /// Which lossy quality suits this viewer now: [`Quality::Full`] while it keeps up.
    pub fn quality(&self, newest: u64) -> Quality {
        let slow = self.rtt.is_some_and(|rtt| rtt > REDUCED_RTT);
        let behind = self.sent > 0 && newest.saturating_sub(self.sent) > REDUCED_BEHIND;
        if slow || behind { Quality::Reduced } else { Quality::Full }
    }

    /// The viewer has drawn everything up to `frame`. Frees window slots and samples RTT.
    pub fn on_ack(&mut self, frame: u64, now: Instant) -> Result<(), PumpError> {
        if frame > self.sent {
            return Err(PumpError::AckUnsent { acked: frame, sent: self.sent });
        }
        while let Some(first) = self.in_flight.front().copied() {
            if first.frame > frame {
                break;
            }
            self.in_flight.pop_front();
            if first.frame == frame {
                self.rtt = Some(now.saturating_duration_since(first.sent_at));
            }
        }
        Ok(())
    }

    /// Last measured round trip, send to ack.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Updates sent but not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Newest screen version sent to this viewer.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Screen updates sent so far.
    pub fn frames_sent(&self) -> u64 {
        self.frames_sent
    }

    /// Tile versions this viewer skipped because newer ones replaced them first.
    pub fn tiles_skipped(&self) -> u64 {
        self.tiles_skipped
    }
}

#[cfg(test)]
mod tests;
