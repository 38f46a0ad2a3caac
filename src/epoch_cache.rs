//! Handing Jetstreamer's per-epoch index memory back once a job is done with an epoch.
//!
//! Jetstreamer keeps each epoch's slot-ranges index (about 5 MB) and a per-slot offset cache
//! in process-wide maps it never evicts, so a backfill across hundreds of epochs would grow
//! by gigabytes. When every slot a job has in an epoch is complete, none of its threads will
//! read that epoch again, so the job evicts it; another job in the same process that still
//! reads the epoch fetches the index again (bandwidth, not correctness).

use std::collections::BTreeSet;

use crate::options::SLOTS_PER_EPOCH;
use crate::ranges::{RangeSet, SlotRange};

pub struct EpochReleaser {
    job_range: SlotRange,
    released: BTreeSet<u64>,
}

impl EpochReleaser {
    pub fn new(job_range: SlotRange) -> Self {
        Self { job_range, released: BTreeSet::new() }
    }

    /// Calls `release` once for each epoch touched by `touched` whose slots of the job are
    /// now all in `completed`.
    pub fn release_finished(&mut self, completed: &RangeSet, touched: SlotRange, mut release: impl FnMut(u64)) {
        for epoch in touched.0 / SLOTS_PER_EPOCH..=touched.1 / SLOTS_PER_EPOCH {
            let start = (epoch * SLOTS_PER_EPOCH).max(self.job_range.0);
            let end = (epoch * SLOTS_PER_EPOCH + SLOTS_PER_EPOCH - 1).min(self.job_range.1);
            if start > end || self.released.contains(&epoch) {
                continue;
            }
            if completed.count_within(start, end) == end - start + 1 {
                self.released.insert(epoch);
                release(epoch);
            }
        }
    }
}

/// Evicts `epoch` from Jetstreamer's slot index caches.
pub fn evict_jetstreamer_epoch(epoch: u64) {
    jetstreamer_firehose::index::SLOT_OFFSET_INDEX.invalidate_epoch(epoch);
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: u64 = SLOTS_PER_EPOCH;

    #[test]
    fn an_epoch_is_released_once_when_the_jobs_part_of_it_completes() {
        // The job covers the end of epoch 10, all of 11 and the start of 12.
        let mut releaser = EpochReleaser::new((11 * E - 100, 12 * E + 99));
        let mut completed = RangeSet::new();
        let mut released = Vec::new();
        completed.insert(11 * E - 100, 11 * E + 5);
        releaser.release_finished(&completed, (11 * E - 100, 11 * E + 5), |e| released.push(e));
        assert_eq!(released, vec![10], "epoch 10's part of the job is done; 11 is not");
        completed.insert(12 * E, 12 * E + 99);
        releaser.release_finished(&completed, (12 * E, 12 * E + 99), |e| released.push(e));
        assert_eq!(released, vec![10, 12]);
        completed.insert(11 * E + 6, 12 * E - 1);
        releaser.release_finished(&completed, (11 * E + 6, 12 * E - 1), |e| released.push(e));
        releaser.release_finished(&completed, (11 * E - 100, 12 * E + 99), |e| released.push(e));
        assert_eq!(released, vec![10, 12, 11], "each epoch once");
    }
}
