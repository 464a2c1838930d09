//! A small, bounded BER reader that turns what real SCEP clients send (indefinite lengths,
//! constructed OCTET STRINGs, a constructed `[0]` for `encryptedContent`) into DER that the
//! strict `der` decoder accepts. It never panics: every malformed input is a [`ScepError`].

use super::ScepError;

/// Nesting deeper than this is refused (no CMS message needs more).
const MAX_DEPTH: usize = 48;

/// One BER element as a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tlv {
    /// Identifier octets, as sent (the constructed bit included).
    pub tag: Vec<u8>,
    /// Content.
    pub body: Body,
}

/// The content of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Primitive content octets.
    Prim(Vec<u8>),
    /// Constructed: the nested elements.
    Cons(Vec<Tlv>),
}

fn err(why: impl Into<String>) -> ScepError {
    ScepError::Ber(why.into())
}

/// Universal string types whose constructed (BER) form is flattened to primitive.
fn flattens(tag: &[u8]) -> Option<u8> {
    match tag {
        [0x24] => Some(0x04), // OCTET STRING
        [0x2C] => Some(0x0C), // UTF8String
        [0x33] => Some(0x13), // PrintableString
        [0x34] => Some(0x14), // T61String
        [0x36] => Some(0x16), // IA5String
        _ => None,
    }
}

impl Tlv {
    /// Parses exactly one element filling `input`.
    pub(crate) fn parse(input: &[u8]) -> Result<Tlv, ScepError> {
        let mut pos = 0;
        let tlv =
            parse_one(input, &mut pos, 0)?.ok_or_else(|| err("unexpected end-of-contents"))?;
        if pos != input.len() {
            return Err(err(format!(
                "{} trailing bytes after the top-level element",
                input.len() - pos
            )));
        }
        Ok(tlv)
    }

    /// Whether the constructed bit is set.
    pub(crate) fn constructed(&self) -> bool {
        matches!(self.body, Body::Cons(_))
    }

    /// The nested elements (empty for a primitive).
    pub(crate) fn children(&self) -> &[Tlv] {
        match &self.body {
            Body::Cons(c) => c,
            Body::Prim(_) => &[],
        }
    }

    /// Mutable nested elements (`None` for a primitive).
    pub(crate) fn children_mut(&mut self) -> Option<&mut Vec<Tlv>> {
        match &mut self.body {
            Body::Cons(c) => Some(c),
            Body::Prim(_) => None,
        }
    }

    /// All primitive octets below this element, concatenated (the value of a constructed
    /// string).
    pub(crate) fn octets(&self) -> Vec<u8> {
        match &self.body {
            Body::Prim(p) => p.clone(),
            Body::Cons(c) => c.iter().flat_map(Tlv::octets).collect(),
        }
    }

    /// DER encoding (definite, minimal lengths).
    pub(crate) fn to_der(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// DER encoding with the first identifier octet replaced (e.g. `[0]` → `SET`).
    pub(crate) fn to_der_with_tag(&self, tag: u8) -> Vec<u8> {
        let mut der = self.to_der();
        if let Some(first) = der.first_mut() {
            *first = tag;
        }
        der
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tag);
        match &self.body {
            Body::Prim(p) => {
                write_len(out, p.len());
                out.extend_from_slice(p);
            }
            Body::Cons(children) => {
                let mut inner = Vec::new();
                for c in children {
                    c.write(&mut inner);
                }
                write_len(out, inner.len());
                out.extend_from_slice(&inner);
            }
        }
    }
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn byte(input: &[u8], pos: &mut usize) -> Result<u8, ScepError> {
    let b = *input
        .get(*pos)
        .ok_or_else(|| err("truncated: element header runs past the end"))?;
    *pos += 1;
    Ok(b)
}

/// Parses one element at `pos`; `Ok(None)` for an end-of-contents marker.
fn parse_one(input: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Tlv>, ScepError> {
    if depth > MAX_DEPTH {
        return Err(err("nesting too deep"));
    }
    let first = byte(input, pos)?;
    let mut tag = vec![first];
    if first & 0x1f == 0x1f {
        loop {
            let b = byte(input, pos)?;
            tag.push(b);
            if b & 0x80 == 0 {
                break;
            }
            if tag.len() > 5 {
                return Err(err("tag number too large"));
            }
        }
    }
    let constructed = first & 0x20 != 0;
    let l = byte(input, pos)?;
    if first == 0 {
        return if l == 0 {
            Ok(None)
        } else {
            Err(err("malformed end-of-contents"))
        };
    }
    let definite = match l {
        0x80 => None,
        n if n < 0x80 => Some(n as usize),
        0xff => return Err(err("reserved length octet 0xFF")),
        n => {
            let count = (n & 0x7f) as usize;
            if count > 4 {
                return Err(err("length field too large"));
            }
            let mut len = 0usize;
            for _ in 0..count {
                len = (len << 8) | byte(input, pos)? as usize;
            }
            Some(len)
        }
    };
    let body = match (constructed, definite) {
        (false, None) => return Err(err("indefinite length on a primitive element")),
        (false, Some(len)) => {
            let end = pos
                .checked_add(len)
                .filter(|e| *e <= input.len())
                .ok_or_else(|| err("truncated: content runs past the end"))?;
            let data = input[*pos..end].to_vec();
            *pos = end;
            Body::Prim(data)
        }
        (true, Some(len)) => {
            let end = pos
                .checked_add(len)
                .filter(|e| *e <= input.len())
                .ok_or_else(|| err("truncated: content runs past the end"))?;
            let inner = &input[..end];
            let mut children = Vec::new();
            while *pos < end {
                match parse_one(inner, pos, depth + 1)? {
                    Some(c) => children.push(c),
                    None => return Err(err("end-of-contents inside a definite-length element")),
                }
            }
            Body::Cons(children)
        }
        (true, None) => {
            let mut children = Vec::new();
            loop {
                if *pos >= input.len() {
                    return Err(err("truncated: missing end-of-contents"));
                }
                match parse_one(input, pos, depth + 1)? {
                    Some(c) => children.push(c),
                    None => break,
                }
            }
            Body::Cons(children)
        }
    };
    let tlv = Tlv { tag, body };
    if let (Some(prim), true) = (flattens(&tlv.tag), tlv.constructed()) {
        return Ok(Some(Tlv {
            tag: vec![prim],
            body: Body::Prim(tlv.octets()),
        }));
    }
    Ok(Some(tlv))
}

/// BER → DER for everything a generic pass can fix (lengths, constructed strings).
pub(crate) fn normalize(input: &[u8]) -> Result<Vec<u8>, ScepError> {
    Ok(Tlv::parse(input)?.to_der())
}

/// Normalises a `ContentInfo(EnvelopedData)`, including the `encryptedContent [0] IMPLICIT
/// OCTET STRING` that Go's pkcs7 writes constructed.
pub(crate) fn normalize_envelope(input: &[u8]) -> Result<Vec<u8>, ScepError> {
    let mut ci = Tlv::parse(input)?;
    let fix = (|| -> Option<()> {
        let ed = ci.children_mut()?.get_mut(1)?.children_mut()?.get_mut(0)?;
        let eci = ed
            .children_mut()?
            .iter_mut()
            .skip_while(|c| c.tag != [0x31])
            .nth(1)?;
        let content = eci.children_mut()?.get_mut(2)?;
        if content.tag == [0xA0] {
            *content = Tlv {
                tag: vec![0x80],
                body: Body::Prim(content.octets()),
            };
        }
        Some(())
    })();
    let _ = fix; // A structure the fix cannot find is left for the strict decoder to reject.
    Ok(ci.to_der())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_constructed_strings_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(
            normalize(&ber).unwrap(),
            vec![0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
        assert!(normalize(&ber[..7]).is_err());
        assert!(normalize(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(normalize(&[]).is_err());
        assert!(normalize(&[0x04, 0x80, 0x00, 0x00]).is_err());
    }

    #[test]
    fn long_lengths_are_minimal() {
        let data = vec![7u8; 300];
        let mut ber = vec![0x04, 0x84, 0, 0, 1, 44];
        ber.extend_from_slice(&data);
        let der = normalize(&ber).unwrap();
        assert_eq!(&der[..4], &[0x04, 0x82, 1, 44]);
    }
}
