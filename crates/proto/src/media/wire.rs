//! Bounds-checked little-endian reading and LEB128 varints, shared by every binary decoder.

use bytes::BufMut;

use super::DecodeError;

/// Reads fields of one message; every read checks the length first.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or(DecodeError::Truncated {
            offset: self.pos,
            needed: n,
            len: self.buf.len(),
        })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub(crate) fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    /// An unsigned LEB128 number of at most `max` (and at most 10 bytes, minimal form).
    pub(crate) fn varint(&mut self, max: u64) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(DecodeError::BadVarint { offset: start });
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                // A zero last byte after the first is a non-minimal encoding: two spellings
                // of one message would let a check on bytes miss a match.
                if i > 0 && b == 0 {
                    return Err(DecodeError::BadVarint { offset: start });
                }
                if value > max {
                    return Err(DecodeError::OutOfRange { offset: start, value, max });
                }
                return Ok(value);
            }
        }
        Err(DecodeError::BadVarint { offset: start })
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }
}

/// Appends `v` as an unsigned LEB128 number.
pub fn put_varint(out: &mut impl BufMut, mut v: u64) {
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// Bytes `v` takes as a varint.
pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}
