//! Just enough of Ruby's Marshal format to read back one dumped `String`,
//! which is what Rails encrypts in a credentials file.
//!
//! A dumped string is the version header `04 08`, then either `"`, a
//! length and the bytes (a string without instance variables), or `I`,
//! that, and the instance variables, of which a string has one: its encoding (`:E` with
//! `T` for UTF-8 or `F` for US-ASCII, or `:encoding` with the encoding's
//! name as a string). Lengths use Marshal's compact integer form. Anything
//! else (an object, a hash, a symbol) is refused: credentials never hold
//! one at the top.
//!
//! Reference: the "Marshal Format" page of the Ruby documentation
//! (<https://docs.ruby-lang.org/en/master/marshal_rdoc.html>).

use thiserror::Error;

/// The Marshal major and minor version every Ruby since 1.8 writes.
const VERSION: [u8; 2] = [4, 8];

/// Why bytes are not a dumped Ruby string.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MarshalError {
    #[error("the data ends early")]
    Truncated,
    #[error("not Marshal data (version {0}.{1}, expected 4.8)")]
    Version(u8, u8),
    #[error("the dumped value is not a String (type byte {0:#04x})")]
    NotAString(u8),
    #[error("unexpected byte {0:#04x} in the string's instance variables")]
    Unexpected(u8),
    #[error("{0} bytes left after the string")]
    Trailing(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, MarshalError> {
        let b = *self.bytes.get(self.at).ok_or(MarshalError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], MarshalError> {
        let end = self.at.checked_add(len).ok_or(MarshalError::Truncated)?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(MarshalError::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    /// Marshal's integer form: 0 is `00`; 1 to 122 are one byte `n + 5`;
    /// -123 to -1 are one byte `n - 5`; otherwise a count byte 1 to 4 (or
    /// -1 to -4 for negatives) and that many little-endian bytes.
    fn long(&mut self) -> Result<i64, MarshalError> {
        let c = self.byte()? as i8;
        Ok(match c {
            0 => 0,
            5..=127 => i64::from(c) - 5,
            -128..=-5 => i64::from(c) + 5,
            1..=4 => {
                let mut n: i64 = 0;
                for i in 0..c {
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
            -4..=-1 => {
                let mut n: i64 = -1;
                for i in 0..(-c) {
                    n &= !(0xff << (8 * i));
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
        })
    }

    fn length(&mut self) -> Result<usize, MarshalError> {
        usize::try_from(self.long()?).map_err(|_| MarshalError::Truncated)
    }

    /// A symbol (`:` + length + bytes) or a link to an earlier one (`;` +
    /// index); the name itself does not matter here.
    fn symbol(&mut self) -> Result<(), MarshalError> {
        match self.byte()? {
            b':' => {
                let len = self.length()?;
                self.take(len)?;
            }
            b';' => {
                self.long()?;
            }
            other => return Err(MarshalError::Unexpected(other)),
        }
        Ok(())
    }

    /// An instance variable's value: `T`, `F`, `0` (nil) or a raw string.
    fn ivar_value(&mut self) -> Result<(), MarshalError> {
        match self.byte()? {
            b'T' | b'F' | b'0' => Ok(()),
            b'"' => {
                let len = self.length()?;
                self.take(len).map(|_| ())
            }
            other => Err(MarshalError::Unexpected(other)),
        }
    }
}

/// The bytes of the Ruby String that `data` is a Marshal dump of. They are
/// returned as they are, whatever the string's encoding.
pub fn read_string(data: &[u8]) -> Result<&[u8], MarshalError> {
    let mut r = Reader { bytes: data, at: 0 };
    let (major, minor) = (r.byte()?, r.byte()?);
    if [major, minor] != VERSION {
        return Err(MarshalError::Version(major, minor));
    }
    let with_ivars = match r.byte()? {
        b'I' => {
            match r.byte()? {
                b'"' => {}
                other => return Err(MarshalError::NotAString(other)),
            }
            true
        }
        b'"' => false,
        other => return Err(MarshalError::NotAString(other)),
    };
    let len = r.length()?;
    let string = r.take(len)?;
    if with_ivars {
        let count = r.length()?;
        for _ in 0..count {
            r.symbol()?;
            r.ivar_value()?;
        }
    }
    if r.at != data.len() {
        return Err(MarshalError::Trailing(data.len() - r.at));
    }
    Ok(string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Marshal.dump("hi")` in Ruby 3.
    const HI: &[u8] = b"\x04\x08I\"\x07hi\x06:\x06ET";

    #[test]
    fn reads_a_utf8_string() {
        assert_eq!(read_string(HI).unwrap(), b"hi");
    }

    #[test]
    fn reads_lengths_in_every_form() {
        // 300 bytes: count byte 2, then 0x2c 0x01.
        let mut data = b"\x04\x08I\"\x02\x2c\x01".to_vec();
        data.extend(std::iter::repeat_n(b'a', 300));
        data.extend_from_slice(b"\x06:\x06ET");
        assert_eq!(read_string(&data).unwrap().len(), 300);
        // An empty binary string without instance variables.
        assert_eq!(read_string(b"\x04\x08\"\x00").unwrap(), b"");
        // An encoding named by string (`:encoding` "Shift_JIS").
        let sjis = b"\x04\x08I\"\x06x\x06:\x0dencoding\"\x0eShift_JIS";
        assert_eq!(read_string(sjis).unwrap(), b"x");
    }

    #[test]
    fn refuses_what_is_not_a_string() {
        assert_eq!(
            read_string(b"\x04\x08i\x06"),
            Err(MarshalError::NotAString(b'i'))
        );
        assert_eq!(
            read_string(b"\x04\x09\"\x00"),
            Err(MarshalError::Version(4, 9))
        );
        assert_eq!(read_string(&HI[..6]), Err(MarshalError::Truncated));
        let mut trailing = HI.to_vec();
        trailing.push(0);
        assert_eq!(read_string(&trailing), Err(MarshalError::Trailing(1)));
        assert_eq!(read_string(b""), Err(MarshalError::Truncated));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_a_string_or_an_error(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut framed = b"\x04\x08".to_vec();
            framed.extend_from_slice(&data);
            let _ = read_string(&framed);
            let _ = read_string(&data);
        }
    }

    #[test]
    fn negative_long_forms() {
        let mut r = Reader {
            bytes: b"\xff\x00\xfa",
            at: 0,
        };
        assert_eq!(r.long().unwrap(), -256);
        assert_eq!(r.long().unwrap(), -1);
    }
}
