//! One backfill job: Jetstreamer's firehose, our slot assembly and batching, and a bounded
//! hand-off to the consumer, all on the addon's tokio runtime.
//!
//! ```text
//! firehose threads ──on_tx──▶ SlotAssembly ──on_block──▶ [slot channel] ──▶ batcher
//!      ▲ (blocks when the slot channel is full)                                 │
//!      └────────────── backpressure ◀── [ready batches ≤ maxQueuedBatches] ◀────┘
//!                                                 │
//!                                                 ▼ one at a time, awaiting each
//!                                              BatchSink (onBatch)
//! ```
//!
//! Jetstreamer retries a failing slot forever; the retry budget lives here, in `on_error`.
//! Cancellation is a watch channel: it stops the batcher and delivery at once, wakes the
//! firehose handlers (which answer with `Interrupted`, Jetstreamer's shutdown signal), and
//! sends the firehose its own shutdown message.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use jetstreamer_firehose::firehose::{
    BlockData, FirehoseErrorContext, OnEntryFn, OnRewardFn, OnStatsTrackingFn, TransactionData, firehose,
};
use tokio::sync::{broadcast, mpsc, watch};

use crate::batch::{BatchBuilder, SealedBatch};
use crate::decode::{FailureTally, Registry};
use crate::error::{ArchiveError, JobError};
use crate::filter::ProgramFilter;
use crate::options::{JobConfig, SLOTS_PER_EPOCH};
use crate::epoch_cache::{EpochReleaser, evict_jetstreamer_epoch};
use crate::presence::PresenceIndex;
use crate::ranges::SlotRange;
use crate::record::{Batch, Checkpoint, Progress, RawTransaction, Summary, failure_counts};
use crate::slots::{AssembledSlot, SlotAssembly};

type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where batches go. The napi layer implements it with the JS `onBatch`; tests with a Vec.
pub trait BatchSink: Send + Sync + 'static {
    type Error: Send + 'static;
    fn deliver(&self, batch: Batch) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The part of a job the JS handle sees: cancel and the live progress snapshot.
pub struct JobControl {
    stop: watch::Sender<bool>,
    cancelled: std::sync::atomic::AtomicBool,
    progress: Mutex<Progress>,
    queued_batches: AtomicU32,
    /// Batches `onBatch` has settled.
    batches: AtomicU64,
    /// Decode failures of every batch converted so far.
    failures: Mutex<FailureTally>,
}

impl Default for JobControl {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            cancelled: Default::default(),
            progress: Mutex::default(),
            queued_batches: AtomicU32::new(0),
            batches: AtomicU64::new(0),
            failures: Mutex::default(),
        }
    }
}

impl JobControl {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.stop.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub fn progress(&self) -> Progress {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
        progress.queued_batches = self.queued_batches.load(Ordering::SeqCst);
        progress.batches = self.batches.load(Ordering::SeqCst) as i64;
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        progress.decode_failures = failure_counts(&failures);
        progress.logs_truncated = failures.logs_truncated as i64;
        progress
    }

    fn set_progress(&self, update: impl FnOnce(&mut Progress)) {
        update(&mut self.progress.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn halt(&self) {
        self.stop.send_replace(true);
    }

    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.subscribe();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    }
}

enum SlotEvent {
    Slot(AssembledSlot),
    RangeFinished(SlotRange),
}

pub async fn run_job<S: BatchSink>(
    config: Arc<JobConfig>,
    registry: Arc<Registry>,
    control: Arc<JobControl>,
    sink: Arc<S>,
) -> Result<Summary, JobError<S::Error>> {
    let started = Instant::now();
    let job_range = (config.start_slot, config.end_slot);
    let presence = Arc::new(PresenceIndex::new(&config.archive_url, config.max_attempts));
    let mut builder = BatchBuilder::new(config.batch_size, job_range, &config.skip_ranges);
    let mut releaser = EpochReleaser::new(job_range);
    let pending = builder.completed().gaps_within(job_range.0, job_range.1);

    // Empty slots before a range's first block have no block to attach to: settle them
    // now, which also proves the archive answers before any thread starts.
    let mut firehose_ranges = Vec::new();
    let settle_leading_empty_slots = async {
        for &(start, end) in &pending {
            match presence.next_present(start, end).await? {
                None => builder.mark_complete((start, end)),
                Some(first) => {
                    if first > start {
                        builder.mark_complete((start, first - 1));
                    }
                    firehose_ranges.push((start, end));
                }
            }
        }
        Ok::<(), ArchiveError>(())
    };
    tokio::select! {
        settled = settle_leading_empty_slots => settled.map_err(JobError::Archive)?,
        _ = control.stopped() => {}
    }
    control.set_progress(|p| *p = builder.progress());

    let channel_slots = (config.threads as usize * 2).max(4);
    let (slot_tx, mut slot_rx) = mpsc::channel::<SlotEvent>(channel_slots);
    let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel::<ArchiveError>();
    let (ready_tx, ready_rx) = mpsc::channel::<Converting>(config.max_queued_batches);
    let convert = |sealed: Vec<SealedBatch>| -> Vec<Converting> {
        sealed
            .into_iter()
            .map(|batch| {
                let (registry, control, include_failed, delivery) = (registry.clone(), control.clone(), config.include_failed, config.delivery);
                tokio::task::spawn_blocking(move || batch.into_batch(&registry, include_failed, delivery, &control.failures))
            })
            .collect()
    };
    if !control.is_cancelled() {
        tokio::spawn(drive_firehose(config.clone(), control.clone(), firehose_ranges, slot_tx, fatal_tx));
    } else {
        drop(slot_tx);
    }
    let delivery = tokio::spawn(deliver_batches(control.clone(), sink, ready_rx, builder.checkpoint()));

    let outcome: Result<(), JobError<S::Error>> = async {
        let mut next_flush = tokio::time::Instant::now() + config.flush_interval;
        let stopped = control.stopped();
        tokio::pin!(stopped);
        loop {
            let mut sealed = Vec::new();
            tokio::select! {
                biased;
                _ = &mut stopped => return Ok(()),
                Some(err) = fatal_rx.recv() => return Err(JobError::Archive(err)),
                event = slot_rx.recv() => match event {
                    // Jetstreamer's per-thread guard already prevents this; a second delivery of
                    // a completed slot would break exactly-once, so it is checked again here.
                    Some(SlotEvent::Slot(slot)) if builder.completed().contains(slot.slot) => {}
                    Some(SlotEvent::Slot(slot)) => {
                        let covers = completion_of(&presence, &firehose_range_of(&pending, slot.slot), slot.slot)
                            .await
                            .map_err(JobError::Archive)?;
                        sealed = builder.add_slot(slot, covers);
                        releaser.release_finished(builder.completed(), covers, evict_jetstreamer_epoch);
                    }
                    Some(SlotEvent::RangeFinished(range)) => {
                        verify_coverage(&presence, &mut builder, range).await?;
                        releaser.release_finished(builder.completed(), range, evict_jetstreamer_epoch);
                    }
                    None => {
                        if builder.has_news() || builder.sealed_count() == 0 {
                            sealed.push(builder.seal());
                        }
                        send_batches(&control, &ready_tx, convert(sealed)).await;
                        return Ok(());
                    }
                },
                _ = tokio::time::sleep_until(next_flush) => {
                    if builder.has_news() {
                        sealed.push(builder.seal());
                    }
                    next_flush = tokio::time::Instant::now() + config.flush_interval;
                }
            }
            let progress = builder.progress();
            control.set_progress(|p| *p = progress);
            if !sealed.is_empty() {
                next_flush = tokio::time::Instant::now() + config.flush_interval;
                if !send_batches(&control, &ready_tx, convert(sealed)).await {
                    return Ok(());
                }
            }
        }
    }
    .await;
    drop(ready_tx);
    if outcome.is_err() {
        control.halt();
    }
    let delivered = delivery.await.map_err(|err| JobError::Internal(format!("delivery task: {err}")))?;
    control.halt();
    outcome?;
    let checkpoint = delivered?;
    let progress = control.progress();
    Ok(Summary {
        cancelled: control.is_cancelled(),
        slots_processed: progress.slots_processed,
        transactions_scanned: progress.transactions_scanned,
        transactions_matched: progress.transactions_matched,
        batches: progress.batches,
        completed_ranges: checkpoint.completed_ranges,
        frontier_slot: checkpoint.frontier_slot,
        duration_ms: started.elapsed().as_millis() as i64,
        decode_failures: progress.decode_failures,
        logs_truncated: progress.logs_truncated,
    })
}

/// A sealed batch being converted for JS on the blocking pool; the queue holds these, so
/// the next batches convert while `onBatch` handles the current one.
type Converting = tokio::task::JoinHandle<Batch>;

/// Queues sealed batches, waiting while the queue is full; false once the job is stopping.
async fn send_batches(control: &JobControl, ready_tx: &mpsc::Sender<Converting>, sealed: Vec<Converting>) -> bool {
    for batch in sealed {
        let stopped = control.stopped();
        tokio::select! {
            biased;
            _ = stopped => return false,
            sent = ready_tx.send(batch) => {
                if sent.is_err() {
                    return false;
                }
                control.queued_batches.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    true
}

/// Hands batches to the sink one at a time; returns the last checkpoint the sink accepted.
async fn deliver_batches<S: BatchSink>(
    control: Arc<JobControl>,
    sink: Arc<S>,
    mut ready_rx: mpsc::Receiver<Converting>,
    initial: Checkpoint,
) -> Result<Checkpoint, JobError<S::Error>> {
    let mut accepted = initial;
    loop {
        let stopped = control.stopped();
        let batch = tokio::select! {
            biased;
            _ = stopped => return Ok(accepted),
            batch = ready_rx.recv() => match batch {
                Some(batch) => batch,
                None => return Ok(accepted),
            },
        };
        let batch = batch.await.map_err(|err| JobError::Internal(format!("batch conversion: {err}")))?;
        control.queued_batches.fetch_sub(1, Ordering::SeqCst);
        if control.is_cancelled() {
            return Ok(accepted);
        }
        let mut batch = batch;
        batch.progress.batches = control.batches.load(Ordering::SeqCst) as i64;
        batch.progress.queued_batches = control.queued_batches.load(Ordering::SeqCst);
        let checkpoint = batch.checkpoint.clone();
        // A batch in flight is awaited even when the job is cancelled meanwhile: once `done`
        // settles, no consumer code of this job is still running.
        if let Err(err) = sink.deliver(batch).await {
            control.halt();
            return Err(JobError::Consumer(err));
        }
        accepted = checkpoint;
        control.batches.fetch_add(1, Ordering::SeqCst);
    }
}

fn firehose_range_of(ranges: &[SlotRange], slot: u64) -> SlotRange {
    let index = ranges.partition_point(|&(_, end)| end < slot);
    ranges.get(index).copied().unwrap_or((slot, slot))
}

/// A read slot completes itself and the empty slots after it, up to the next block.
async fn completion_of(presence: &PresenceIndex, range: &SlotRange, slot: u64) -> Result<SlotRange, ArchiveError> {
    if slot >= range.1 {
        return Ok((slot, slot));
    }
    Ok(match presence.next_present(slot + 1, range.1).await? {
        Some(next) => (slot, next - 1),
        None => (slot, range.1),
    })
}

async fn verify_coverage<E>(
    presence: &PresenceIndex,
    builder: &mut BatchBuilder,
    range: SlotRange,
) -> Result<(), JobError<E>> {
    for (start, end) in builder.completed().gaps_within(range.0, range.1) {
        match presence.next_present(start, end).await.map_err(JobError::Archive)? {
            Some(missing_slot) => return Err(JobError::Coverage { start: range.0, end: range.1, missing_slot }),
            None => builder.mark_complete((start, end)),
        }
    }
    Ok(())
}

/// A failure reading `slot` from its epoch's CAR file.
fn car_error(archive_url: &str, slot: u64, attempts: u32, message: String) -> ArchiveError {
    let epoch = slot / SLOTS_PER_EPOCH;
    ArchiveError { url: format!("{archive_url}{epoch}/epoch-{epoch}.car"), epoch, slot: Some(slot), attempts, message }
}

fn interrupted() -> HandlerError {
    Box::new(std::io::Error::new(std::io::ErrorKind::Interrupted, "backfill job stopped"))
}

/// Runs the firehose over each range in turn, ending each with `RangeFinished`.
async fn drive_firehose(
    config: Arc<JobConfig>,
    control: Arc<JobControl>,
    ranges: Vec<SlotRange>,
    slot_tx: mpsc::Sender<SlotEvent>,
    fatal_tx: mpsc::UnboundedSender<ArchiveError>,
) {
    let assembly = Arc::new(SlotAssembly::new(config.threads as usize));
    let filter = Arc::new(ProgramFilter::new(&config.program_ids, config.match_mode, config.include_failed));
    // Jetstreamer treats a closed shutdown channel as a shutdown, so the sender lives as long
    // as the firehose runs.
    let (shutdown_tx, _) = broadcast::channel::<()>(1);
    let attempts: Arc<Mutex<HashMap<u64, u32>>> = Arc::default();
    let gave_up = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let on_tx = {
        let (assembly, filter) = (assembly.clone(), filter.clone());
        move |thread: usize, data: TransactionData| -> BoxFuture<'static, Result<(), HandlerError>> {
            // Only filter here: conversion and decoding happen per batch on the blocking pool,
            // so the firehose threads run as close to Jetstreamer's own speed as they can.
            let wanted = filter.matches(data.is_vote, &data.transaction, &data.transaction_status_meta);
            let (slot, index) = (data.slot, data.transaction_slot_index);
            let matched = wanted.then(|| RawTransaction {
                slot,
                index,
                block_time: None,
                tx: data.transaction,
                meta: data.transaction_status_meta,
            });
            assembly.add_transaction(thread, slot, index, matched);
            futures_util::future::ready(Ok(())).boxed()
        }
    };
    let on_block = {
        let (assembly, control, slot_tx) = (assembly.clone(), control.clone(), slot_tx.clone());
        move |thread: usize, block: BlockData| -> BoxFuture<'static, Result<(), HandlerError>> {
            // Skip notices are unreliable at range and epoch edges; the slot index decides.
            let BlockData::Block { slot, block_time, .. } = block else {
                return futures_util::future::ready(Ok(())).boxed();
            };
            let assembled = assembly.finish_slot(thread, slot, block_time);
            let (control, slot_tx) = (control.clone(), slot_tx.clone());
            async move {
                tokio::select! {
                    biased;
                    _ = control.stopped() => Err(interrupted()),
                    sent = slot_tx.send(SlotEvent::Slot(assembled)) => sent.map_err(|_| interrupted()),
                }
            }
            .boxed()
        }
    };
    let on_error = {
        let (assembly, config, control, attempts) = (assembly.clone(), config.clone(), control.clone(), attempts.clone());
        let (fatal_tx, shutdown_tx, gave_up) = (fatal_tx.clone(), shutdown_tx.clone(), gave_up.clone());
        move |thread: usize, context: FirehoseErrorContext| -> BoxFuture<'static, Result<(), HandlerError>> {
            assembly.discard(thread);
            let count = {
                let mut attempts = attempts.lock().unwrap_or_else(|p| p.into_inner());
                let count = attempts.entry(context.slot).or_insert(0);
                *count += 1;
                *count
            };
            if count >= config.max_attempts && !*control.stop.borrow() && !gave_up.swap(true, Ordering::SeqCst) {
                let _ = fatal_tx.send(car_error(&config.archive_url, context.slot, count, context.error_message));
                let _ = shutdown_tx.send(());
            }
            futures_util::future::ready(Ok(())).boxed()
        }
    };

    for range in ranges {
        let threads = config.threads.min(range.1 - range.0 + 1);
        let run = firehose(
            threads,
            false,
            false,
            None,
            range.0..range.1 + 1,
            Some(on_block.clone()),
            Some(on_tx.clone()),
            None::<OnEntryFn>,
            None::<OnRewardFn>,
            Some(on_error.clone()),
            None::<OnStatsTrackingFn>,
            Some(shutdown_tx.subscribe()),
        );
        let result = tokio::select! {
            result = run => result,
            _ = control.stopped() => {
                // Threads see this at their next block boundary or backoff tick and exit on
                // their own; nothing waits for them.
                let _ = shutdown_tx.send(());
                return;
            }
        };
        if let Err((err, slot)) = result {
            let _ = fatal_tx.send(car_error(&config.archive_url, slot, 1, err.to_string()));
            return;
        }
        if *control.stop.borrow() || gave_up.load(Ordering::SeqCst) || slot_tx.send(SlotEvent::RangeFinished(range)).await.is_err() {
            return;
        }
    }
}
