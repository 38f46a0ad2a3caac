//! Turns completed slots into batches, each carrying a checkpoint that covers exactly what
//! this batch and the earlier ones delivered.
//!
//! A slot is never split across batches: a checkpoint can only say "slot complete", so a
//! batch cut inside a slot would, on resume, deliver that slot's first part a second time.
//! A batch therefore holds at most `batchSize` transactions unless one slot alone has more.

use std::sync::Mutex;
use std::time::Instant;

use crate::decode::{FailureTally, Registry};
use crate::options::Delivery;
use crate::ranges::{RangeSet, SlotRange};
use crate::record::{Batch, Checkpoint, Progress, RawTransaction, Transaction, failure_counts, push_decoded};
use crate::slots::AssembledSlot;

/// A batch whose contents and checkpoint are fixed, not yet converted for JS.
pub struct SealedBatch {
    pub transactions: Vec<RawTransaction>,
    pub checkpoint: Checkpoint,
    pub progress: Progress,
}

impl SealedBatch {
    /// The JS form, with events and instructions decoded. Runs on a blocking thread so the
    /// firehose threads only filter and move; `failures` is the job's running tally.
    pub fn into_batch(self, registry: &Registry, include_failed: bool, delivery: Delivery, failures: &Mutex<FailureTally>) -> Batch {
        let mut batch = Batch {
            transactions: Vec::with_capacity(self.transactions.len()),
            events: Vec::new(),
            instructions: Vec::new(),
            checkpoint: self.checkpoint,
            progress: self.progress,
        };
        let mut tally = FailureTally::default();
        for raw in self.transactions {
            let signature = raw.signature();
            let log_truncated = raw.logs_truncated();
            tally.logs_truncated += log_truncated as u64;
            // A failed transaction's events were rolled back: decoded only when asked for.
            if !registry.is_empty() && (raw.meta.status.is_ok() || include_failed) {
                let decoded = registry.decode(raw.slot, &raw.tx, &raw.meta, delivery.instructions);
                tally.record(&signature, &decoded);
                let at = (signature.as_str(), raw.slot as i64, raw.block_time);
                push_decoded(decoded, at, &mut batch.events, &mut batch.instructions);
            }
            // Converting a transaction (base58 of every key) is the costly part: only if wanted.
            if delivery.transactions {
                batch.transactions.push(Transaction::from_raw(raw, signature, log_truncated));
            }
        }
        let mut total = failures.lock().unwrap_or_else(|p| p.into_inner());
        total.merge(&tally);
        batch.progress.decode_failures = failure_counts(&total);
        batch.progress.logs_truncated = total.logs_truncated as i64;
        batch
    }
}

pub struct BatchBuilder {
    batch_size: usize,
    job_range: SlotRange,
    completed: RangeSet,
    /// Slots of the job range that were complete before this run (from `skipRanges`).
    completed_before: u64,
    slots_total: u64,
    pending: Vec<RawTransaction>,
    transactions_scanned: u64,
    transactions_matched: u64,
    /// Whether anything changed since the last sealed batch (checkpoint or transactions).
    dirty: bool,
    sealed: u64,
    started: Instant,
}

impl BatchBuilder {
    pub fn new(batch_size: usize, job_range: SlotRange, skip_ranges: &RangeSet) -> Self {
        let completed = skip_ranges.clipped_to(job_range.0, job_range.1);
        let completed_before = completed.count_within(job_range.0, job_range.1);
        Self {
            batch_size,
            job_range,
            slots_total: job_range.1 - job_range.0 + 1 - completed_before,
            completed,
            completed_before,
            pending: Vec::new(),
            transactions_scanned: 0,
            transactions_matched: 0,
            dirty: false,
            sealed: 0,
            started: Instant::now(),
        }
    }

    pub fn completed(&self) -> &RangeSet {
        &self.completed
    }

    /// Slots with no block need no delivery: they are complete as soon as they are known.
    pub fn mark_complete(&mut self, range: SlotRange) {
        self.completed.insert(range.0, range.1);
        self.dirty = true;
    }

    /// Adds a read slot whose completion covers `covers` (the slot and the empty slots after
    /// it); returns the batches that filled up on the way.
    pub fn add_slot(&mut self, slot: AssembledSlot, covers: SlotRange) -> Vec<SealedBatch> {
        let mut sealed = Vec::new();
        if !self.pending.is_empty() && self.pending.len() + slot.transactions.len() > self.batch_size {
            sealed.push(self.seal());
        }
        self.transactions_scanned += slot.scanned;
        self.transactions_matched += slot.transactions.len() as u64;
        self.pending.extend(slot.transactions);
        self.mark_complete(covers);
        if self.pending.len() >= self.batch_size {
            sealed.push(self.seal());
        }
        sealed
    }

    pub fn has_news(&self) -> bool {
        self.dirty
    }

    pub fn sealed_count(&self) -> u64 {
        self.sealed
    }

    pub fn seal(&mut self) -> SealedBatch {
        self.dirty = false;
        self.sealed += 1;
        SealedBatch {
            transactions: std::mem::take(&mut self.pending),
            checkpoint: self.checkpoint(),
            progress: self.progress(),
        }
    }

    pub fn checkpoint(&self) -> Checkpoint {
        checkpoint_of(&self.completed, self.job_range)
    }

    /// What the builder knows; the job's counters (batches, queue, tally) are filled in by
    /// `JobControl` when a snapshot or a batch goes to JS.
    pub fn progress(&self) -> Progress {
        let done_total = self.completed.count_within(self.job_range.0, self.job_range.1);
        let slots_processed = done_total - self.completed_before;
        let elapsed = self.started.elapsed().as_secs_f64();
        let slots_per_second = if elapsed > 0.0 { slots_processed as f64 / elapsed } else { 0.0 };
        let remaining = self.slots_total - slots_processed;
        Progress {
            slots_processed: slots_processed as i64,
            slots_total: self.slots_total as i64,
            transactions_scanned: self.transactions_scanned as i64,
            transactions_matched: self.transactions_matched as i64,
            batches: 0,
            queued_batches: 0,
            slots_per_second,
            eta_ms: (slots_per_second > 0.0).then(|| (remaining as f64 / slots_per_second * 1000.0) as i64),
            // Filled in from the job's tally once the batch's transactions are decoded.
            decode_failures: Vec::new(),
            logs_truncated: 0,
        }
    }
}

pub fn checkpoint_of(completed: &RangeSet, job_range: SlotRange) -> Checkpoint {
    Checkpoint {
        completed_ranges: completed.ranges().iter().map(|&(s, e)| vec![s as i64, e as i64]).collect(),
        frontier_slot: completed.frontier_from(job_range.0).map(|slot| slot as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(n: usize) -> RawTransaction {
        RawTransaction { slot: 0, index: n, block_time: None, tx: Default::default(), meta: Default::default() }
    }

    fn slot(slot: u64, count: usize) -> AssembledSlot {
        AssembledSlot { slot, scanned: count as u64 + 1, transactions: (0..count).map(tx).collect(), ..AssembledSlot::default() }
    }

    #[test]
    fn slots_are_never_split_and_checkpoints_follow_the_batches() {
        let mut builder = BatchBuilder::new(3, (100, 199), &RangeSet::from_ranges([(150, 199)]));
        assert!(builder.add_slot(slot(100, 1), (100, 101)).is_empty());
        // Slot 102's three transactions do not fit beside slot 100's: 100 goes out alone.
        let sealed = builder.add_slot(slot(102, 3), (102, 102));
        assert_eq!(sealed.len(), 2);
        assert_eq!(sealed[0].transactions.len(), 1);
        assert_eq!(sealed[0].checkpoint.completed_ranges, vec![vec![100, 101], vec![150, 199]]);
        assert_eq!(sealed[0].checkpoint.frontier_slot, Some(101));
        assert_eq!(sealed[1].transactions.len(), 3);
        assert_eq!(sealed[1].checkpoint.completed_ranges, vec![vec![100, 102], vec![150, 199]]);
        assert_eq!(sealed[1].progress.slots_total, 50);
        assert_eq!(sealed[1].progress.slots_processed, 3);
        assert_eq!(sealed[1].progress.transactions_matched, 4);
        assert_eq!(sealed[1].progress.transactions_scanned, 6);
        // One slot larger than a batch travels whole.
        let sealed = builder.add_slot(slot(103, 5), (103, 103));
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].transactions.len(), 5);
        assert!(!builder.has_news());
        builder.mark_complete((104, 149));
        let last = builder.seal();
        assert!(last.transactions.is_empty());
        assert_eq!(last.checkpoint.frontier_slot, Some(199));
        assert_eq!(last.progress.slots_processed, 50);
    }

    #[test]
    fn no_frontier_until_the_start_slot_is_complete() {
        let mut builder = BatchBuilder::new(10, (0, 9), &RangeSet::new());
        builder.add_slot(slot(5, 0), (5, 9));
        assert_eq!(builder.checkpoint().frontier_slot, None);
    }
}
