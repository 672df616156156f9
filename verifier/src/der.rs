//! A strict, zero-copy DER reader (ITU-T X.690 §8 and §10): single-octet
//! tags, definite lengths in minimal form. It is the tokenizer under
//! [`crate::x509`]; every method returns an error on malformed input and
//! none panics.

/// Why DER could not be read. The reason is static text for error
/// messages; callers wrap it with the certificate's position.
pub(crate) type DerResult<T> = Result<T, &'static str>;

/// Universal and context-specific tags Sigil's certificates use.
pub(crate) mod tag {
    /// BOOLEAN (X.690 §8.2).
    pub(crate) const BOOLEAN: u8 = 0x01;
    /// INTEGER (X.690 §8.3).
    pub(crate) const INTEGER: u8 = 0x02;
    /// BIT STRING (X.690 §8.6).
    pub(crate) const BIT_STRING: u8 = 0x03;
    /// OCTET STRING (X.690 §8.7).
    pub(crate) const OCTET_STRING: u8 = 0x04;
    /// OBJECT IDENTIFIER (X.690 §8.19).
    pub(crate) const OID: u8 = 0x06;
    /// UTCTime (X.690 §11.8, RFC 5280 §4.1.2.5.1).
    pub(crate) const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime (X.690 §11.7, RFC 5280 §4.1.2.5.2).
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE / SEQUENCE OF, constructed (X.690 §8.9).
    pub(crate) const SEQUENCE: u8 = 0x30;
    /// `[0]` constructed: the TBSCertificate `version` (RFC 5280 §4.1).
    pub(crate) const CONTEXT_0_CONSTRUCTED: u8 = 0xa0;
    /// `[3]` constructed: the TBSCertificate `extensions` (RFC 5280 §4.1).
    pub(crate) const CONTEXT_3_CONSTRUCTED: u8 = 0xa3;
    /// `[1]` primitive: GeneralName `rfc822Name` (RFC 5280 §4.2.1.6).
    pub(crate) const RFC822_NAME: u8 = 0x81;
    /// `[6]` primitive: GeneralName `uniformResourceIdentifier`.
    pub(crate) const URI: u8 = 0x86;
}

/// One DER element: its tag, its content octets and all of its octets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Element<'a> {
    /// The identifier octet.
    pub(crate) tag: u8,
    /// The content octets.
    pub(crate) content: &'a [u8],
    /// Identifier, length and content octets together.
    pub(crate) whole: &'a [u8],
}

/// Reads DER elements one after another from a slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    /// True when all input has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads the next element, whatever its tag.
    pub(crate) fn any(&mut self) -> DerResult<Element<'a>> {
        let start = self.input;
        let (&tag, rest) = start.split_first().ok_or("truncated element")?;
        if tag & 0x1f == 0x1f {
            return Err("high tag number form (not used by X.509)");
        }
        let (&first, mut rest) = rest.split_first().ok_or("truncated length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            // 0x80: indefinite form, forbidden in DER (X.690 §10.1). A
            // certificate entry is at most 65,535 bytes, so three length
            // octets are more than enough.
            if count == 0 {
                return Err("indefinite length");
            }
            if count > 3 {
                return Err("length over 2^24");
            }
            let (octets, after) = rest.split_at_checked(count).ok_or("truncated length")?;
            rest = after;
            if octets.first() == Some(&0) {
                return Err("length with a leading zero octet");
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err("long-form length for a short length");
            }
            len
        };
        let (content, after) = rest.split_at_checked(len).ok_or("truncated content")?;
        let header = start.len() - rest.len();
        let whole = start.get(..header + len).ok_or("truncated content")?;
        self.input = after;
        Ok(Element {
            tag,
            content,
            whole,
        })
    }

    /// Reads the next element, which must have tag `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> DerResult<Element<'a>> {
        match self.peek_tag() {
            Some(t) if t == tag => self.any(),
            _ => Err(what),
        }
    }

    /// Reads the next element if it has tag `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> DerResult<Option<Element<'a>>> {
        match self.peek_tag() {
            Some(t) if t == tag => self.any().map(Some),
            _ => Ok(None),
        }
    }

    /// Fails unless all input has been read.
    pub(crate) fn finish(&self, what: &'static str) -> DerResult<()> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(what)
        }
    }
}

/// Reads the content of a DER `BOOLEAN DEFAULT FALSE` that is present: it
/// can only be TRUE, `0xff` (X.690 §11.1), since DER omits a value equal to
/// its default (X.690 §11.5).
pub(crate) fn boolean_default_false(content: &[u8]) -> DerResult<bool> {
    match content {
        [0xff] => Ok(true),
        [0x00] => Err("BOOLEAN DEFAULT FALSE encoded as FALSE (DER omits it, X.690 §11.5)"),
        _ => Err("BOOLEAN is not 0xff"),
    }
}

/// Reads a BIT STRING's content as (unused bits, octets), checking that the
/// unused bits are zero (X.690 §11.2.1).
pub(crate) fn bit_string(content: &[u8]) -> DerResult<(u8, &[u8])> {
    let (&unused, bits) = content.split_first().ok_or("empty BIT STRING")?;
    if unused > 7 || (bits.is_empty() && unused != 0) {
        return Err("BIT STRING with a bad unused-bits count");
    }
    if let Some(&last) = bits.last() {
        let mask = (1u16 << unused) as u8;
        if last & mask.wrapping_sub(1) != 0 {
            return Err("BIT STRING with non-zero unused bits");
        }
    }
    Ok((unused, bits))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn lengths() {
        let cases: &[(&str, Result<usize, ()>)] = &[
            ("0400", Ok(0)),
            ("04017f", Ok(1)),
            ("0480", Err(())),
            ("048100", Err(())),
            ("04817f", Err(())),
            ("04820080", Err(())),
            ("048400000001", Err(())),
            ("0402aa", Err(())),
            ("1f0100", Err(())),
            ("", Err(())),
            ("04", Err(())),
        ];
        for (input, want) in cases {
            let bytes = hex::decode(input).unwrap();
            let got = Reader::new(&bytes).any().map(|e| e.content.len());
            assert_eq!(got.map_err(|_| ()), *want, "{input}");
        }
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7; 0x80]);
        let el = Reader::new(&long).any().unwrap();
        assert_eq!((el.content.len(), el.whole.len()), (0x80, 0x83));
    }

    #[test]
    fn bit_strings() {
        assert_eq!(bit_string(&[0x07, 0x80]).unwrap(), (7, &[0x80][..]));
        assert!(bit_string(&[0x07, 0x81]).is_err());
        assert!(bit_string(&[0x08, 0x00]).is_err());
        assert!(bit_string(&[0x01]).is_err());
        assert!(bit_string(&[]).is_err());
        assert_eq!(bit_string(&[0x00]).unwrap(), (0, &[][..]));
    }
}
