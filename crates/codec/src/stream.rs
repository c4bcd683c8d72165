//! The entropy stage: raw deflate (RFC 1951), paid once by whoever encodes.
//!
//! A presenter keeps one deflate stream for its session and sync-flushes it after each
//! frame, so a frame's data decodes given the frames before it: a glyph typed a second
//! ago is a back-reference now (the warm-stream advantage of VNC's ZRLE, which VNC pays
//! per viewer and we pay once). The server decodes the same stream, and so knows the last
//! 32 KiB of it — the whole decoder state after a sync flush — and can put any viewer in
//! step by sending that window as history (`FrameHeader::history_len`).
//!
//! Why deflate: browsers inflate it natively and a small JavaScript inflater
//! (`web/app/decoders/inflate.js`) keeps the window across frames, which
//! `DecompressionStream` cannot be fed piecewise with; zstd is not in browsers.

use deskshare_proto::media::SYNC_TRAILER;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The deflate window: the decoder state after a sync flush is its last this many bytes.
pub const WINDOW: usize = 32 * 1024;

/// Why a frame's data did not inflate to what its ops declare.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("the deflate data is corrupt: {0}")]
    Corrupt(String),
    #[error("the deflate data inflates to more than the {expected} bytes declared")]
    TooLong { expected: usize },
    #[error("the deflate data inflates to {got} of the {expected} bytes declared")]
    TooShort { got: usize, expected: usize },
    #[error("{0} bytes follow the end of the deflate stream")]
    AfterEnd(usize),
    #[error("the previous frame ended its deflate stream: this frame must restart it")]
    Ended,
}

/// The presenter's side: one stream for a session.
pub struct Deflater {
    inner: Compress,
}

impl Deflater {
    /// Level 1..=9; see docs/PERFORMANCE.md for what each costs.
    pub fn new(level: u32) -> Self {
        Deflater { inner: Compress::new(Compression::new(level), false) }
    }

    /// Compresses `input` as the next segment of the stream, sync-flushed, without the
    /// four-byte [`SYNC_TRAILER`]. Empty input gives empty output (and leaves the stream
    /// as it was), so a frame of copies only carries no data.
    pub fn segment(&mut self, input: &[u8]) -> Vec<u8> {
        if input.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        compress_all(&mut self.inner, input, &mut out);
        // `compress_all` completes the flush, whatever the input (not input-driven: a
        // failure here is a bug in this file, and a corrupt stream would be worse).
        assert!(out.ends_with(&SYNC_TRAILER), "a sync flush ends with an empty stored block");
        out.truncate(out.len() - SYNC_TRAILER.len());
        out
    }
}

/// Compresses `input` as a stream of its own, sync-flushed, trailer kept: such units can
/// be concatenated into one valid stream (each refers only to its own bytes), which is how
/// the server builds a catch-up from per-tile units it compressed once.
pub fn standalone_unit(input: &[u8], level: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    if !input.is_empty() {
        compress_all(&mut Compress::new(Compression::new(level), false), input, &mut out);
    }
    out
}

fn compress_all(c: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    // Room for the worst case (stored blocks: 5 bytes per 16 KiB, plus the flush) up front,
    // so one call consumes everything and completes its flush.
    out.reserve(input.len() + input.len() / 1024 + 1024);
    let start_in = c.total_in();
    // An in-memory compressor only fails on misuse; nothing here can misuse it.
    let sync = |c: &mut Compress, input: &[u8], out: &mut Vec<u8>| {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        c.compress_vec(input, out, FlushCompress::Sync).expect("deflate of a buffer");
    };
    while ((c.total_in() - start_in) as usize) < input.len() {
        let consumed = (c.total_in() - start_in) as usize;
        sync(c, &input[consumed..], out);
    }
    // Should the flush still be incomplete, another one completes it (an empty stored
    // block more in the stream costs nothing but its five bytes).
    for _ in 0..16 {
        if out.ends_with(&SYNC_TRAILER) && out.len() < out.capacity() {
            break;
        }
        sync(c, &[], out);
    }
}

/// The receiving side (the server, every viewer): one stream, inflated frame by frame.
pub struct Inflater {
    inner: Decompress,
    ended: bool,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater { inner: Decompress::new(false), ended: false }
    }
}

impl Inflater {
    /// Whether the stream ended with a final block (a sender that compresses each frame on
    /// its own): what follows must restart.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Forgets the stream: the next data starts a new one.
    pub fn restart(&mut self) {
        *self = Inflater::default();
    }

    /// Inflates one frame's `data` to exactly `expected` bytes. The output is bounded by
    /// `expected` (the ops declared it, and the protocol bounds that), so a deflate bomb
    /// ends in [`StreamError::TooLong`] after at most one byte too many.
    pub fn inflate(&mut self, data: &[u8], expected: usize) -> Result<Vec<u8>, StreamError> {
        if data.is_empty() && expected == 0 {
            return Ok(Vec::new());
        }
        if self.ended {
            return Err(StreamError::Ended);
        }
        let mut out = vec![0u8; expected + 1];
        let mut produced = 0usize;
        let parts: [&[u8]; 2] = [data, &SYNC_TRAILER];
        for (i, part) in parts.iter().enumerate() {
            let mut consumed = 0usize;
            loop {
                let (in0, out0) = (self.inner.total_in(), self.inner.total_out());
                let status = self
                    .inner
                    .decompress(&part[consumed..], &mut out[produced..], FlushDecompress::Sync)
                    .map_err(|e| StreamError::Corrupt(e.to_string()))?;
                consumed += (self.inner.total_in() - in0) as usize;
                produced += (self.inner.total_out() - out0) as usize;
                if produced > expected {
                    return Err(StreamError::TooLong { expected });
                }
                if status == Status::StreamEnd {
                    self.ended = true;
                    let left = part.len() - consumed;
                    if i == 0 && left > 0 {
                        return Err(StreamError::AfterEnd(left));
                    }
                    break;
                }
                let progressed = self.inner.total_in() != in0 || self.inner.total_out() != out0;
                if consumed == part.len() || !progressed {
                    break;
                }
            }
            if self.ended {
                break;
            }
        }
        if produced != expected {
            return Err(StreamError::TooShort { got: produced, expected });
        }
        out.truncate(expected);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_decode_in_order_and_warm_up() {
        let mut d = Deflater::new(6);
        let mut i = Inflater::default();
        let a = b"the quick brown fox jumps over the lazy dog ".repeat(3);
        let s1 = d.segment(&a);
        let s2 = d.segment(&a);
        assert!(s2.len() < s1.len() / 2, "the second copy refers back: {} vs {}", s2.len(), s1.len());
        assert_eq!(i.inflate(&s1, a.len()).unwrap(), a);
        assert_eq!(i.inflate(&s2, a.len()).unwrap(), a);
        // The second segment alone does not decode to the text in a fresh stream.
        assert_ne!(Inflater::default().inflate(&s2, a.len()).ok(), Some(a.clone()));
    }

    #[test]
    fn every_segment_is_complete_whatever_its_size() {
        // Incompressible and compressible inputs of many sizes through one stream: each
        // segment decodes on its own given the ones before (miniz can stop a flush early;
        // the compressor must finish it).
        let (mut d, mut i) = (Deflater::new(6), Inflater::default());
        let mut s = 7u64;
        for n in [1usize, 3, 100, 4095, 65_536, 91_457, 300_001, 17] {
            let input: Vec<u8> = (0..n)
                .map(|k| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    if k % 3 == 0 { s as u8 } else { (s % 5) as u8 }
                })
                .collect();
            assert_eq!(i.inflate(&d.segment(&input), n).unwrap(), input, "{n} bytes");
        }
    }

    #[test]
    fn standalone_units_concatenate_into_one_stream() {
        let (a, b) = (vec![7u8; 5000], b"hello hello hello".to_vec());
        let mut data = standalone_unit(&a, 6);
        data.extend(standalone_unit(&b, 6));
        data.truncate(data.len() - 4);
        let out = Inflater::default().inflate(&data, a.len() + b.len()).unwrap();
        assert_eq!(out, [a, b].concat());
    }

    #[test]
    fn a_window_as_history_puts_a_fresh_inflater_in_step() {
        let mut d = Deflater::new(6);
        let mut server = Inflater::default();
        let mut history = Vec::new();
        for n in 0..40u32 {
            let msg = format!("line {n}: the quick brown fox jumps over the lazy dog\n").repeat(30).into_bytes();
            let seg = d.segment(&msg);
            history.extend(server.inflate(&seg, msg.len()).unwrap());
        }
        let window = &history[history.len() - WINDOW..];
        let mut late = Inflater::default();
        let mut sync = standalone_unit(window, 6);
        sync.truncate(sync.len() - 4);
        assert_eq!(late.inflate(&sync, WINDOW).unwrap(), window);
        let next = b"line 39: the quick brown fox jumps over the lazy dog\n".repeat(30);
        let seg = d.segment(&next);
        assert_eq!(late.inflate(&seg, next.len()).unwrap(), next);
    }

    #[test]
    fn lengths_and_ends_are_enforced() {
        let mut d = Deflater::new(6);
        let seg = d.segment(&[1u8; 1000]);
        assert_eq!(Inflater::default().inflate(&seg, 999), Err(StreamError::TooLong { expected: 999 }));
        assert_eq!(Inflater::default().inflate(&seg, 1001), Err(StreamError::TooShort { got: 1000, expected: 1001 }));
        assert!(matches!(Inflater::default().inflate(&[0xff, 0xff, 0xff], 10), Err(StreamError::Corrupt(_))));
        // A finished stream (a browser's CompressionStream) decodes; after it, only a
        // restart does; bytes after its end are refused.
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        std::io::Write::write_all(&mut z, b"abcabcabc").unwrap();
        let fin = z.finish().unwrap();
        let mut i = Inflater::default();
        assert_eq!(i.inflate(&fin, 9).unwrap(), b"abcabcabc");
        assert_eq!(i.inflate(&fin, 9), Err(StreamError::Ended));
        let mut extra = fin.clone();
        extra.push(0);
        assert_eq!(Inflater::default().inflate(&extra, 9), Err(StreamError::AfterEnd(1)));
        // A bomb: 1 MB of zeros declared as 100 bytes stops at 101.
        let bomb = Deflater::new(9).segment(&vec![0u8; 1 << 20]);
        assert_eq!(Inflater::default().inflate(&bomb, 100), Err(StreamError::TooLong { expected: 100 }));
    }
}
