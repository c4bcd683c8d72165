//! Fan-out of one presenter's screen to many viewers, each at its own pace.
//!
//! The presenter encodes each changed tile once. [`Screen`] keeps the newest encoded
//! version of every tile (the *tile cache*) plus the cursor. One [`ViewerPump`] per viewer
//! decides what to send next: every tile newer than what that viewer holds, as one whole
//! frame, but only while fewer than `window` updates are unacknowledged. A slow viewer
//! therefore skips intermediate versions instead of queueing them, and never holds back
//! the presenter or other viewers; a late joiner gets a keyframe from the cache at once.
//!
//! Both are sans-IO state machines: time is passed in, output is returned, and the async
//! server shell only moves bytes. Relay nodes will reuse them unchanged.

mod pump;
mod screen;

pub use pump::{DEFAULT_WINDOW, PumpError, PumpOutput, ViewerPump};
pub use screen::{ApplyError, ApplyOutcome, Screen};
