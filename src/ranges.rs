//! Sets of inclusive slot ranges: what a job has completed, what it still has to read.
//!
//! Checkpoints are made of these, so they are kept canonical (sorted, disjoint, never two
//! adjacent ranges) and a resumed job can pass them back verbatim as `skipRanges`.

/// An inclusive slot range `[start, end]`, the form users write and persist.
pub type SlotRange = (u64, u64);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<SlotRange>,
}

impl RangeSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = SlotRange>) -> Self {
        let mut set = Self::new();
        for (start, end) in ranges {
            set.insert(start, end);
        }
        set
    }

    pub fn ranges(&self) -> &[SlotRange] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Adds `[start, end]`, merging with every range it overlaps or touches.
    pub fn insert(&mut self, start: u64, end: u64) {
        debug_assert!(start <= end, "inverted range {start}..={end}");
        // First range that could merge: its end reaches start - 1 or beyond.
        let first = self
            .ranges
            .partition_point(|&(_, e)| e.saturating_add(1) < start);
        // One past the last range that could merge: its start is at most end + 1.
        let last = self
            .ranges
            .partition_point(|&(s, _)| s <= end.saturating_add(1));
        if first >= last {
            self.ranges.insert(first, (start, end));
            return;
        }
        let merged_start = start.min(self.ranges[first].0);
        let merged_end = end.max(self.ranges[last - 1].1);
        self.ranges.splice(first..last, [(merged_start, merged_end)]);
    }

    pub fn contains(&self, slot: u64) -> bool {
        let index = self.ranges.partition_point(|&(_, e)| e < slot);
        self.ranges.get(index).is_some_and(|&(s, _)| s <= slot)
    }

    /// The highest slot `S` such that all of `[start, S]` is in the set.
    pub fn frontier_from(&self, start: u64) -> Option<u64> {
        let index = self.ranges.partition_point(|&(_, e)| e < start);
        match self.ranges.get(index) {
            Some(&(s, e)) if s <= start => Some(e),
            _ => None,
        }
    }

    /// The parts of `[start, end]` not in the set, in ascending order.
    pub fn gaps_within(&self, start: u64, end: u64) -> Vec<SlotRange> {
        let mut gaps = Vec::new();
        let mut cursor = start;
        for &(s, e) in &self.ranges {
            if e < cursor {
                continue;
            }
            if s > end {
                break;
            }
            if s > cursor {
                gaps.push((cursor, s - 1));
            }
            match e.checked_add(1) {
                Some(next) => cursor = next,
                None => return gaps,
            }
            if cursor > end {
                return gaps;
            }
        }
        gaps.push((cursor, end));
        gaps
    }

    /// How many slots of `[start, end]` are in the set.
    pub fn count_within(&self, start: u64, end: u64) -> u64 {
        self.ranges
            .iter()
            .filter(|&&(s, e)| e >= start && s <= end)
            .map(|&(s, e)| e.min(end) - s.max(start) + 1)
            .sum()
    }

    /// The set restricted to `[start, end]`.
    pub fn clipped_to(&self, start: u64, end: u64) -> RangeSet {
        RangeSet {
            ranges: self
                .ranges
                .iter()
                .filter(|&&(s, e)| e >= start && s <= end)
                .map(|&(s, e)| (s.max(start), e.min(end)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A slot-by-slot model to check the interval arithmetic against.
    fn model(slots: &BTreeSet<u64>) -> Vec<SlotRange> {
        let mut out: Vec<SlotRange> = Vec::new();
        for &slot in slots {
            match out.last_mut() {
                Some((_, e)) if *e + 1 == slot => *e = slot,
                _ => out.push((slot, slot)),
            }
        }
        out
    }

    /// xorshift: deterministic, dependency-free randomness for the property checks.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn random_inserts_match_a_slot_model() {
        for mut seed in 1..200u64 {
            let mut set = RangeSet::new();
            let mut slots = BTreeSet::new();
            for _ in 0..(next(&mut seed) % 40) {
                let start = next(&mut seed) % 120;
                let end = start + next(&mut seed) % 9;
                set.insert(start, end);
                slots.extend(start..=end);
                assert_eq!(set.ranges(), model(&slots).as_slice(), "seed {seed}");
            }
            for slot in 0..140 {
                assert_eq!(set.contains(slot), slots.contains(&slot), "slot {slot}");
            }
            let (lo, hi) = (next(&mut seed) % 60, 60 + next(&mut seed) % 80);
            let gaps: BTreeSet<u64> = set
                .gaps_within(lo, hi)
                .into_iter()
                .flat_map(|(s, e)| s..=e)
                .collect();
            let expected: BTreeSet<u64> = (lo..=hi).filter(|s| !slots.contains(s)).collect();
            assert_eq!(gaps, expected);
            assert_eq!(
                set.count_within(lo, hi),
                (lo..=hi).filter(|s| slots.contains(s)).count() as u64
            );
            let frontier = (lo..=hi + 200).take_while(|s| slots.contains(s)).last();
            assert_eq!(set.frontier_from(lo), frontier);
            let clipped: BTreeSet<u64> = set
                .clipped_to(lo, hi)
                .ranges()
                .iter()
                .flat_map(|&(s, e)| s..=e)
                .collect();
            assert_eq!(clipped, slots.range(lo..=hi).copied().collect());
        }
    }

    #[test]
    fn adjacent_ranges_merge_into_one() {
        let set = RangeSet::from_ranges([(10, 19), (30, 39), (20, 29)]);
        assert_eq!(set.ranges(), &[(10, 39)]);
        assert_eq!(set.frontier_from(10), Some(39));
        assert_eq!(set.frontier_from(9), None);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut set = RangeSet::new();
        set.insert(u64::MAX - 1, u64::MAX);
        set.insert(0, 0);
        assert_eq!(set.gaps_within(0, u64::MAX), vec![(1, u64::MAX - 2)]);
        assert_eq!(set.frontier_from(u64::MAX - 1), Some(u64::MAX));
    }
}
