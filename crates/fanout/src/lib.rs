//! Fan-out of one presenter's screen to many viewers, each at its own pace.
//!
//! The presenter encodes each change once. [`Screen`] decodes it into the meeting's
//! current picture and keeps a short log of frames and a cache of standalone tiles (see
//! its docs). One [`ViewerPump`] per viewer decides what to send next: everything from
//! the version that viewer holds to the newest, as one whole update, but only while fewer
//! than `window` updates are unacknowledged. A slow viewer therefore skips intermediate
//! versions instead of queueing them, and never holds back the presenter or other
//! viewers; a late joiner gets the whole screen from the cache at once.
//!
//! Both are sans-IO state machines: time is passed in, output is returned, and the async
//! server shell only moves bytes. Relay nodes will reuse them unchanged.

mod pump;
mod screen;

pub use deskshare_codec::video_codecs;
pub use pump::{DEFAULT_WINDOW, PumpError, PumpOutput, REDUCED_BEHIND, REDUCED_RTT, ViewerPump};
pub use screen::{ApplyError, ApplyOutcome, Quality, Screen, Update, UpdateKind, VideoSync};
