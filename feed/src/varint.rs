//! Unsigned LEB128 varints, the integers of index files, sorted runs and id sets.

/// Appends `v`.
pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint at `*at` in `buf`, moving `at` past it; None when `buf` ends inside it or it
/// does not fit 64 bits.
pub(crate) fn get(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let &b = buf.get(*at)?;
        *at += 1;
        // The tenth byte holds bit 63 only: anything more (or a continuation) overflows.
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{get, put};

    #[test]
    fn round_trips_and_refuses_what_does_not_fit_64_bits() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            put(&mut buf, v);
            let mut at = 0;
            assert_eq!(get(&buf, &mut at), Some(v));
            assert_eq!(at, buf.len());
        }
        // u64::MAX is nine 0xff bytes and a tenth byte 0x01.
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(get(&max, &mut 0), Some(u64::MAX));
        for tenth in [0x02, 0x7f, 0x81, 0xff] {
            let mut bad = vec![0xff; 9];
            bad.push(tenth);
            assert_eq!(get(&bad, &mut 0), None, "tenth byte {tenth:#x}");
        }
        // Cut inside a varint.
        assert_eq!(get(&[0x80, 0x80], &mut 0), None);
    }
}
