//! The subset of the TLS presentation language (RFC 8446 §3) that entries
//! use: big-endian unsigned integers, fixed-length opaque arrays and
//! variable-length vectors `T name<floor..ceiling>` whose byte length is
//! prefixed in as many bytes as the ceiling needs (RFC 8446 §3.4: one byte
//! up to 255, two bytes up to 65,535).
//!
//! [`Writer`] and [`Reader`] are exact mirrors: each checks the same bounds,
//! so a value the writer accepts is read back unchanged and a byte string
//! the reader accepts is written back unchanged.

use super::{EntryError, MAX_ENTRY_SIZE};

/// A variable-length vector's name and bounds, in bytes (RFC 8446 §3.4:
/// `<floor..ceiling>`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Vector {
    /// Field name, for error messages.
    pub name: &'static str,
    /// Floor: the smallest allowed byte length.
    pub min: usize,
    /// Ceiling: the largest allowed byte length; 255 or less takes a 1-byte
    /// length prefix, 65,535 or less a 2-byte one.
    pub max: usize,
}

impl Vector {
    /// Number of bytes in the length prefix (RFC 8446 §3.4).
    fn prefix_len(self) -> usize {
        if self.max <= 0xff { 1 } else { 2 }
    }

    /// Checks `len` against the bounds.
    fn check(self, len: usize) -> Result<(), EntryError> {
        if len < self.min || len > self.max {
            return Err(EntryError::FieldLength {
                field: self.name,
                len,
                min: self.min,
                max: self.max,
            });
        }
        Ok(())
    }
}

/// Appends TLS-encoded values to a buffer that never grows past
/// [`MAX_ENTRY_SIZE`] (an encoder given a huge value fails fast).
#[derive(Debug, Default)]
pub(super) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Fails once the buffer is larger than an entry may be.
    fn check_size(&self) -> Result<(), EntryError> {
        if self.buf.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge {
                len: self.buf.len(),
            });
        }
        Ok(())
    }

    /// `uint8`.
    pub fn u8(&mut self, value: u8) -> Result<(), EntryError> {
        self.buf.push(value);
        self.check_size()
    }

    /// `uint64`, big-endian.
    pub fn u64(&mut self, value: u64) -> Result<(), EntryError> {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self.check_size()
    }

    /// `opaque name[N]`: bytes with no prefix.
    pub fn fixed(&mut self, bytes: &[u8]) -> Result<(), EntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge { len: bytes.len() });
        }
        self.buf.extend_from_slice(bytes);
        self.check_size()
    }

    /// `opaque name<floor..ceiling>`: length prefix, then the bytes.
    pub fn opaque(&mut self, field: Vector, bytes: &[u8]) -> Result<(), EntryError> {
        field.check(bytes.len())?;
        self.prefix(field, bytes.len());
        self.buf.extend_from_slice(bytes);
        self.check_size()
    }

    /// `T name<floor..ceiling>` for structures: writes a length prefix,
    /// lets `body` write the elements, then fills in and checks the length.
    pub fn vector(
        &mut self,
        field: Vector,
        body: impl FnOnce(&mut Writer) -> Result<(), EntryError>,
    ) -> Result<(), EntryError> {
        let start = self.buf.len();
        self.prefix(field, 0);
        let body_start = self.buf.len();
        body(self)?;
        let len = self.buf.len() - body_start;
        field.check(len)?;
        let prefix = &mut self.buf[start..body_start];
        // `check` bounded `len` by the ceiling, which the prefix holds.
        prefix.copy_from_slice(&len.to_be_bytes()[size_of::<usize>() - prefix.len()..]);
        Ok(())
    }

    /// A length prefix of `field.prefix_len()` bytes; `len` fits (checked by
    /// the caller against the ceiling).
    fn prefix(&mut self, field: Vector, len: usize) {
        let bytes = len.to_be_bytes();
        self.buf
            .extend_from_slice(&bytes[bytes.len() - field.prefix_len()..]);
    }
}

/// Reads TLS-encoded values from a byte string, front to back.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// True once every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails if any byte is left.
    pub fn finish(self) -> Result<(), EntryError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(EntryError::TrailingBytes {
                count: self.buf.len(),
            })
        }
    }

    /// Takes the next `n` bytes.
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], EntryError> {
        if self.buf.len() < n {
            return Err(EntryError::Truncated { field });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// `uint8`.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, EntryError> {
        Ok(self.fixed::<1>(field)?[0])
    }

    /// `uint64`, big-endian.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, EntryError> {
        Ok(u64::from_be_bytes(self.fixed::<8>(field)?))
    }

    /// `opaque name[N]`.
    pub fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EntryError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// `opaque name<floor..ceiling>` or the bytes of a vector of structures:
    /// reads the length prefix, checks the bounds, returns the contents.
    pub fn vector(&mut self, field: Vector) -> Result<&'a [u8], EntryError> {
        let len = self
            .take(field.prefix_len(), field.name)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        field.check(len)?;
        self.take(len, field.name)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SHORT: Vector = Vector {
        name: "short",
        min: 1,
        max: 3,
    };
    const LONG: Vector = Vector {
        name: "long",
        min: 0,
        max: 0xffff,
    };

    #[test]
    fn prefixes_are_sized_by_the_ceiling() {
        let mut w = Writer::default();
        w.opaque(SHORT, b"ab").unwrap();
        w.opaque(LONG, b"c").unwrap();
        w.vector(LONG, |w| w.u8(7)).unwrap();
        assert_eq!(w.into_bytes(), [2, b'a', b'b', 0, 1, b'c', 0, 1, 7]);
    }

    #[test]
    fn bounds_are_checked_both_ways() {
        let mut w = Writer::default();
        assert!(matches!(
            w.opaque(SHORT, b""),
            Err(EntryError::FieldLength { len: 0, .. })
        ));
        assert!(matches!(
            w.opaque(SHORT, b"abcd"),
            Err(EntryError::FieldLength { len: 4, .. })
        ));
        assert!(matches!(
            Reader::new(&[4, 1, 2, 3, 4]).vector(SHORT),
            Err(EntryError::FieldLength { len: 4, .. })
        ));
        assert!(matches!(
            Reader::new(&[0, 3, 1]).vector(LONG),
            Err(EntryError::Truncated { field: "long" })
        ));
    }
}
