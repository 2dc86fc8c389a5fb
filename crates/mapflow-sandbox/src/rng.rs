//! The sandbox's one random generator, SplitMix64: small and deterministic, so the demo
//! account, the catalog and the results are the same on every machine and do not change
//! with a dependency's version.

/// SplitMix64's increment, the golden ratio in 64 bits.
pub(crate) const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finalizer: a well-mixed 64-bit hash of a 64-bit value.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from one seed.
    pub fn seeded(seed: u64) -> Self {
        Self(seed ^ GAMMA)
    }

    /// A generator seeded from several numbers, each folded in in turn.
    pub fn from_parts(parts: &[u64]) -> Self {
        let mut rng = Self(0x243F_6A88_85A3_08D3);
        for &p in parts {
            rng.0 ^= p;
            rng.0 = rng.next_u64();
        }
        rng
    }

    /// A generator for the place (a, b) of the kind `salt`, so that what is made there
    /// does not depend on the order places are made in.
    pub fn for_place(seed: u64, a: i64, b: i64, salt: u64) -> Self {
        Self(mix(seed ^ mix((a as u64).wrapping_mul(GAMMA) ^ mix((b as u64) ^ (salt << 32)))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in lo..=hi, scaled from [`Rng::unit`].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.unit() * (hi - lo + 1) as f64).floor() as i64
    }

    /// Uniform in lo..=hi (nearly), the remainder of a draw: the results' and the demo
    /// picture's way, kept so that they stay as they were.
    pub fn int_by_remainder(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1).max(1) as u64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs of SplitMix64 from state 0 (Vigna's reference implementation).
        let mut rng = Rng(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut a = Rng::for_place(7, 1, -2, 3);
        let mut b = Rng::for_place(7, 1, -2, 3);
        assert_eq!((a.next_u64(), a.unit()), (b.next_u64(), b.unit()));
        for _ in 0..1000 {
            assert!((3..=9).contains(&a.int(3, 9)) && (3..=9).contains(&a.int_by_remainder(3, 9)));
        }
    }

    #[test]
    fn the_demo_pictures_draws_are_unchanged() {
        // The demo picture drew `lo + next % (hi - lo).max(1)` for lo..hi; it now asks for
        // lo..=hi - 1, which takes the same remainder of the same draw.
        let (mut old, mut new) = (Rng::seeded(0xA1_4A7F), Rng::seeded(0xA1_4A7F));
        for k in 0..5000i64 {
            let (lo, hi) = (k % 37 - 5, k % 37 - 5 + k % 11);
            let before = lo + (old.next_u64() % (hi - lo).max(1) as u64) as i64;
            assert_eq!(new.int_by_remainder(lo, hi - 1), before, "{lo}..{hi}");
        }
    }
}
