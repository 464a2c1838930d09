//! Bytes to text, as Windows tools and PowerShell write logs: UTF-8 with or without a BOM,
//! UTF-16 with a BOM (PowerShell 5's `>` redirection), or UTF-16 without one when the first
//! character's zero byte gives it away.

/// Decoded text, and where decoding first failed (the text then carries U+FFFD there).
pub(crate) struct Decoded {
    pub text: String,
    pub problem: Option<EncodingProblem>,
}

/// The first undecodable spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodingProblem {
    /// 1-based line of the decoded text where it is.
    pub line: u64,
    /// What is wrong.
    pub why: String,
}

/// Decodes, replacing what does not decode and saying where the first such spot is.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    decode_owned(bytes.to_vec())
}

/// [`decode`], reusing the buffer for UTF-8 (the common case costs no copy of the file).
pub(crate) fn decode_owned(mut bytes: Vec<u8>) -> Decoded {
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, ..] => {
            bytes.drain(..3);
            utf8(bytes)
        }
        [a, 0, ..] if *a != 0 => utf16(&bytes, true),
        [0, b, ..] if *b != 0 => utf16(&bytes, false),
        _ => utf8(bytes),
    }
}

fn utf8(bytes: Vec<u8>) -> Decoded {
    match String::from_utf8(bytes) {
        Ok(text) => Decoded {
            text,
            problem: None,
        },
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let line = line_of(&bytes[..at]);
            Decoded {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                problem: Some(EncodingProblem {
                    line,
                    why: format!("invalid UTF-8 at byte {at}"),
                }),
            }
        }
    }
}

fn utf16(bytes: &[u8], little_endian: bool) -> Decoded {
    let units = bytes.chunks_exact(2).map(|c| {
        if little_endian {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut problem = None;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                if problem.is_none() {
                    problem = Some(EncodingProblem {
                        line: line_of(text.as_bytes()),
                        why: format!(
                            "invalid UTF-16 (unpaired surrogate {:#06X})",
                            e.unpaired_surrogate()
                        ),
                    });
                }
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    if bytes.len() % 2 == 1 && problem.is_none() {
        problem = Some(EncodingProblem {
            line: line_of(text.as_bytes()),
            why: "UTF-16 text with an odd number of bytes (cut short?)".into(),
        });
    }
    Decoded { text, problem }
}

fn line_of(before: &[u8]) -> u64 {
    before.iter().filter(|b| **b == b'\n').count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn every_windows_encoding() {
        for bytes in [
            "<Event/>".as_bytes().to_vec(),
            [&[0xEF, 0xBB, 0xBF][..], b"<Event/>"].concat(),
            le("<Event/>", true),
            le("<Event/>", false),
        ] {
            let d = decode(&bytes);
            assert_eq!(d.text, "<Event/>");
            assert_eq!(d.problem, None);
        }
        let mut be = vec![0xFE, 0xFF];
        for u in "é".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&be).text, "é");
    }

    #[test]
    fn bad_bytes_are_located_not_fatal() {
        let d = decode(b"line one\nline \xFF two\n");
        assert_eq!(d.text, "line one\nline \u{FFFD} two\n");
        assert_eq!(d.problem.unwrap().line, 2);
        let mut odd = le("ab\ncd", true);
        odd.push(0x41);
        let d = decode(&odd);
        assert_eq!(d.text, "ab\ncd");
        assert!(d.problem.unwrap().why.contains("odd"));
        let mut lone = le("a\n", true);
        lone.extend_from_slice(&0xD800u16.to_le_bytes());
        let d = decode(&lone);
        assert_eq!(d.problem.unwrap().line, 2);
    }
}
