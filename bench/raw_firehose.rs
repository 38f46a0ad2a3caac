//! The baseline for `bench/throughput.js`: Jetstreamer's `firehose()` over the same archive
//! and thread count with handlers that only count. Prints one JSON line.
//!
//! cargo run --release --example raw_firehose -- ARCHIVE_URL START_SLOT END_SLOT THREADS

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::FutureExt;
use jetstreamer_firehose::firehose::{
    BlockData, OnEntryFn, OnErrorFn, OnRewardFn, OnStatsTrackingFn, TransactionData, firehose,
};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, start, end, threads] = args.as_slice() else {
        eprintln!("usage: raw_firehose ARCHIVE_URL START_SLOT END_SLOT THREADS");
        std::process::exit(2);
    };
    let (start, end, threads): (u64, u64, u64) = (start.parse().unwrap(), end.parse().unwrap(), threads.parse().unwrap());
    // SAFETY: single-threaded at this point; Jetstreamer reads these on its first run.
    unsafe {
        std::env::set_var("JETSTREAMER_HTTP_BASE_URL", url);
        std::env::set_var("JETSTREAMER_COMPACT_INDEX_BASE_URL", url);
    }
    let transactions = Arc::new(AtomicU64::new(0));
    let blocks = Arc::new(AtomicU64::new(0));
    let on_tx = {
        let transactions = transactions.clone();
        move |_thread: usize, _tx: TransactionData| {
            transactions.fetch_add(1, Ordering::Relaxed);
            futures_util::future::ready(Ok(())).boxed()
        }
    };
    let on_block = {
        let blocks = blocks.clone();
        move |_thread: usize, block: BlockData| {
            if !block.was_skipped() {
                blocks.fetch_add(1, Ordering::Relaxed);
            }
            futures_util::future::ready(Ok(())).boxed()
        }
    };
    let started = Instant::now();
    firehose(
        threads,
        false,
        false,
        None,
        start..end + 1,
        Some(on_block),
        Some(on_tx),
        None::<OnEntryFn>,
        None::<OnRewardFn>,
        None::<OnErrorFn>,
        None::<OnStatsTrackingFn>,
        None,
    )
    .await
    .expect("firehose failed");
    let seconds = started.elapsed().as_secs_f64();
    let transactions = transactions.load(Ordering::Relaxed);
    println!(
        "{{\"transactions\":{transactions},\"blocks\":{},\"seconds\":{seconds},\"transactionsPerSecond\":{}}}",
        blocks.load(Ordering::Relaxed),
        transactions as f64 / seconds
    );
}
