//! Injected randomness. The crate never reads OS randomness or the clock: `States.UUID`,
//! `States.MathRandom`, `$uuid()` and `$random()` draw from a [`Random`] the caller provides.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of random bits. Takes `&self` so one source can serve Map iterations and Parallel
/// branches at once; implementations keep their state in atomics or a lock.
pub trait Random: Send + Sync {
    /// 64 random bits.
    fn next_u64(&self) -> u64;

    /// A float uniformly drawn from `[0, 1)`.
    fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A deterministic generator (SplitMix64) for tests and reproducible runs.
#[derive(Debug)]
pub struct SeededRandom {
    state: AtomicU64,
}

impl SeededRandom {
    /// A generator that always yields the same sequence for the same seed.
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom {
            state: AtomicU64::new(seed),
        }
    }
}

impl Random for SeededRandom {
    fn next_u64(&self) -> u64 {
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A version 4 UUID in its 36-character text form, from two draws of `random`.
pub fn uuid_v4(random: &dyn Random) -> String {
    let hi = random.next_u64();
    let lo = random.next_u64();
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_repeat_and_uuids_have_the_v4_shape() {
        let a = SeededRandom::new(7);
        let b = SeededRandom::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
        let u = uuid_v4(&a);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }
}
