//! The few DAG-CBOR shapes Old Faithful nodes use, written by hand.
//!
//! `serde_cbor` (what Jetstreamer reads with) drops tag 42 when it serialises without its
//! `tags` feature, and enabling that feature would make Jetstreamer's own link decoding
//! fail; so links are encoded here, tagged as real Old Faithful archives have them.

use sha2::{Digest, Sha256};

/// A CIDv1, dag-cbor, sha2-256: the form every Old Faithful section carries.
pub type Cid = [u8; 36];

pub fn cid_of(cbor: &[u8]) -> Cid {
    let mut cid = [0u8; 36];
    cid[..4].copy_from_slice(&[0x01, 0x71, 0x12, 0x20]);
    cid[4..].copy_from_slice(&Sha256::digest(cbor));
    cid
}

/// `bafkqaaa`: the identity CID Old Faithful links when a block has no rewards.
pub const EMPTY_IDENTITY_CID: [u8; 4] = [0x01, 0x55, 0x00, 0x00];

#[derive(Default)]
pub struct Cbor {
    pub bytes: Vec<u8>,
}

impl Cbor {
    fn head(&mut self, major: u8, value: u64) {
        let major = major << 5;
        match value {
            0..=23 => self.bytes.push(major | value as u8),
            24..=0xff => self.bytes.extend_from_slice(&[major | 24, value as u8]),
            0x100..=0xffff => {
                self.bytes.push(major | 25);
                self.bytes.extend_from_slice(&(value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.bytes.push(major | 26);
                self.bytes.extend_from_slice(&(value as u32).to_be_bytes());
            }
            _ => {
                self.bytes.push(major | 27);
                self.bytes.extend_from_slice(&value.to_be_bytes());
            }
        }
    }

    pub fn array(&mut self, len: usize) -> &mut Self {
        self.head(4, len as u64);
        self
    }

    pub fn map(&mut self, len: usize) -> &mut Self {
        self.head(5, len as u64);
        self
    }

    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.head(0, value);
        self
    }

    pub fn bytes(&mut self, data: &[u8]) -> &mut Self {
        self.head(2, data.len() as u64);
        self.bytes.extend_from_slice(data);
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        self.head(3, text.len() as u64);
        self.bytes.extend_from_slice(text.as_bytes());
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.bytes.push(0xf6);
        self
    }

    /// A DAG-CBOR link: tag 42 around the CID's bytes behind a 0x00 multibase prefix.
    pub fn link(&mut self, cid: &[u8]) -> &mut Self {
        self.head(6, 42);
        self.head(2, cid.len() as u64 + 1);
        self.bytes.push(0x00);
        self.bytes.extend_from_slice(cid);
        self
    }

    pub fn optional_uint(&mut self, value: Option<u64>) -> &mut Self {
        match value {
            Some(value) => self.uint(value),
            None => self.null(),
        }
    }
}

pub fn uvarint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jetstreamer_reads_what_is_written() {
        let cid = cid_of(b"x");
        let mut cbor = Cbor::default();
        cbor.array(6).uint(2).uint(300_000_000).array(1);
        cbor.array(2).uint(3).uint(4);
        cbor.array(1).link(&cid).array(3).uint(7).uint(1_700_000_000).null().link(&EMPTY_IDENTITY_CID);
        let value: serde_cbor::Value = serde_cbor::from_slice(&cbor.bytes).unwrap();
        let serde_cbor::Value::Array(items) = value else { panic!("not an array") };
        assert_eq!(items[1], serde_cbor::Value::Integer(300_000_000));
        assert_eq!(items[2], serde_cbor::Value::Array(vec![serde_cbor::Value::Array(vec![
            serde_cbor::Value::Integer(3),
            serde_cbor::Value::Integer(4)
        ])]));
        // Without serde_cbor's `tags` feature the tag is stripped, leaving 0x00 ‖ cid.
        let serde_cbor::Value::Array(links) = &items[3] else { panic!("no links") };
        let serde_cbor::Value::Bytes(link) = &links[0] else { panic!("link is not bytes") };
        assert_eq!(link[0], 0);
        assert_eq!(&link[1..], &cid[..]);
    }

    #[test]
    fn uvarint_matches_leb128() {
        let mut out = Vec::new();
        uvarint(300, &mut out);
        assert_eq!(out, vec![0xac, 0x02]);
    }
}
