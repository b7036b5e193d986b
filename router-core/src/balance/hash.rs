//! HAProxy 2.6's hash functions (`hash-type ... sdbm|djb2|wt6|crc32 [avalanche]`,
//! `src/hash.c`) and `full_hash()`, the integer mix that places consistent-hash
//! points and applies `avalanche`. Hash-based balancing picks the same server as
//! HAProxy only if these give HAProxy's numbers bit for bit.

use crate::config::model::{HashFunction, HashType};

/// `hash_sdbm()`: HAProxy's default.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// `hash_djb2()`.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// `hash_wt6()`.
pub fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in key {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// `hash_crc32()`: the IEEE CRC-32 (reflected, polynomial 0xedb88320).
pub fn crc32(key: &[u8]) -> u32 {
    let mut h = !0u32;
    for &c in key {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// `full_hash()`: Bob Jenkins' integer avalanche, then a multiplication that
/// spreads the result over the whole tree.
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

impl HashType {
    /// `gen_hash()` of `key`, with `avalanche` applied when set.
    pub fn hash(&self, key: &[u8]) -> u32 {
        let h = match self.function {
            HashFunction::Sdbm => sdbm(key),
            HashFunction::Djb2 => djb2(key),
            HashFunction::Wt6 => wt6(key),
            HashFunction::Crc32 => crc32(key),
        };
        self.mix(h)
    }

    /// `avalanche` on an already computed value (`balance source` hashes no bytes).
    pub fn mix(&self, h: u32) -> u32 {
        if self.avalanche { full_hash(h) } else { h }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values of the published algorithms (not of this code): CRC-32 of
    // "123456789" is the standard check value; djb2 and sdbm of "" are their seeds.
    #[test]
    fn known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(sdbm(b""), 0);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(
            sdbm(b"ab"),
            98u32
                .wrapping_add(97 << 6)
                .wrapping_add(97 << 16)
                .wrapping_sub(97)
        );
        assert_ne!(wt6(b"a"), wt6(b"b"));
        // full_hash is not the identity and differs between neighbours.
        assert_ne!(full_hash(1), full_hash(2));
    }
}
