//! `ValueSet`: which values of one cron field are allowed, as a bit set.

/// A set of integers in `min..min + 256`, as bits. Every cron field fits: the widest, the
/// year, spans 1970-2199 (230 values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueSet {
    min: u16,
    bits: [u64; 4],
}

impl ValueSet {
    /// The empty set of a field whose smallest value is `min`.
    pub(crate) fn empty(min: u16) -> Self {
        ValueSet { min, bits: [0; 4] }
    }

    /// Adds `lo`, `lo + step`, ... up to `hi` inclusive. Values outside the set's span are
    /// ignored (the parser checks ranges before it gets here).
    pub(crate) fn insert_steps(&mut self, lo: u16, hi: u16, step: u16) {
        let step = step.max(1);
        let mut v = lo;
        while v <= hi {
            self.insert(v);
            match v.checked_add(step) {
                Some(next) => v = next,
                None => break,
            }
        }
    }

    /// Adds one value.
    pub(crate) fn insert(&mut self, v: u16) {
        if let Some(i) = self.index(v) {
            self.bits[i / 64] |= 1 << (i % 64);
        }
    }

    /// Whether `v` is in the set.
    pub(crate) fn contains(&self, v: u16) -> bool {
        self.index(v)
            .is_some_and(|i| self.bits[i / 64] & (1 << (i % 64)) != 0)
    }

    /// The values in the set that are `>= from`, ascending.
    pub(crate) fn iter_from(&self, from: u16) -> impl Iterator<Item = u16> + '_ {
        let start = from.max(self.min);
        let end = self.min.saturating_add(256);
        (start..end).filter(move |v| self.contains(*v))
    }

    /// The smallest value in the set that is `>= from`.
    pub(crate) fn first_from(&self, from: u16) -> Option<u16> {
        self.iter_from(from).next()
    }

    fn index(&self, v: u16) -> Option<usize> {
        let i = usize::from(v.checked_sub(self.min)?);
        (i < 256).then_some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::ValueSet;

    #[test]
    fn steps_and_lookups() {
        let mut s = ValueSet::empty(1970);
        s.insert_steps(1970, 2199, 100);
        assert_eq!(s.iter_from(0).collect::<Vec<_>>(), [1970, 2070, 2170]);
        assert_eq!(s.first_from(2071), Some(2170));
        assert_eq!(s.first_from(2171), None);
        assert!(!s.contains(1969) && s.contains(2070));
        assert_eq!(ValueSet::empty(0).first_from(0), None);
    }
}
