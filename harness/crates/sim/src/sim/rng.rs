//! The seeded random source, with independent named sub-streams.

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// A deterministic generator for one purpose within a run.
///
/// Each component forks its own stream by name ([`Rng::fork`]), so adding a random draw in one
/// place does not shift the values another place sees.
#[derive(Clone, Debug)]
pub struct Rng {
    seed: u64,
    inner: ChaCha20Rng,
}

impl Rng {
    /// The root stream for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng::derive(seed, "root")
    }

    fn derive(seed: u64, label: &str) -> Rng {
        let mut h = Sha256::new();
        h.update(seed.to_be_bytes());
        h.update(label.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        Rng {
            seed,
            inner: ChaCha20Rng::from_seed(key),
        }
    }

    /// An independent stream named `label`, fixed by the seed alone.
    pub fn fork(&self, label: &str) -> Rng {
        Rng::derive(self.seed, label)
    }

    /// The seed this stream descends from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.inner.fill_bytes(&mut v);
        v
    }

    /// A random upper-case hex string of `n` bytes.
    pub fn hex(&mut self, n: usize) -> String {
        hex::encode_upper(self.bytes(n))
    }

    /// A random GUID-shaped string (version 4 layout), lower-case.
    pub fn guid(&mut self) -> String {
        let mut b = self.bytes(16);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let mut g = [0u8; 16];
        g.copy_from_slice(&b);
        format_guid(&g)
    }
}

/// 16 bytes written as a GUID: lower-case hex in 8-4-4-4-12 groups.
pub fn format_guid(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.inner.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.inner.try_fill_bytes(dest)
    }
}

impl CryptoRng for Rng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values_and_forks_are_independent() {
        let a = Rng::new(7);
        let mut x = a.fork("ca");
        let mut y = Rng::new(7).fork("ca");
        assert_eq!(x.bytes(32), y.bytes(32));
        let mut z = Rng::new(7).fork("intune");
        assert_ne!(Rng::new(7).fork("ca").bytes(16), z.bytes(16));
        assert_ne!(
            Rng::new(8).fork("ca").bytes(16),
            Rng::new(7).fork("ca").bytes(16)
        );
        let g = Rng::new(1).guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }
}
