//! The seed design's sidecar, for `bench/index.js`: Jetstreamer's `firehose()` with the same
//! filter as the addon (the program invoked at the top level or in an inner instruction, over
//! static and lookup-table-loaded keys; no votes, no failures), writing one NDJSON record per
//! matched transaction (`{ signature, slot, blockTime, logs }`, seed §6.1) to stdout through a
//! bounded channel, so a slow reader slows the firehose as the seed's backpressure does.
//!
//! cargo run --release --example ndjson_sidecar -- ARCHIVE_URL START_SLOT END_SLOT THREADS PROGRAM

use std::io::Write;

use futures_util::FutureExt;
use jetstreamer_firehose::firehose::{
    OnBlockFn, OnEntryFn, OnErrorFn, OnRewardFn, OnStatsTrackingFn, TransactionData, firehose,
};
use solana_address::Address;

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    signature: String,
    slot: u64,
    block_time: Option<i64>,
    logs: &'a [String],
}

fn invokes(program: &Address, tx: &TransactionData) -> bool {
    let meta = &tx.transaction_status_meta;
    let keys: Vec<&Address> = tx
        .transaction
        .message
        .static_account_keys()
        .iter()
        .chain(meta.loaded_addresses.writable.iter())
        .chain(meta.loaded_addresses.readonly.iter())
        .collect();
    let invoked = |index: u8| keys.get(index as usize).is_some_and(|key| *key == program);
    tx.transaction.message.instructions().iter().any(|ix| invoked(ix.program_id_index))
        || meta.inner_instructions.iter().flatten().any(|inner| inner.instructions.iter().any(|ix| invoked(ix.instruction.program_id_index)))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, start, end, threads, program] = args.as_slice() else {
        eprintln!("usage: ndjson_sidecar ARCHIVE_URL START_SLOT END_SLOT THREADS PROGRAM");
        std::process::exit(2);
    };
    let (start, end, threads): (u64, u64, u64) = (start.parse().unwrap(), end.parse().unwrap(), threads.parse().unwrap());
    let program = Address::new_from_array(bs58::decode(program).into_vec().unwrap().try_into().unwrap());
    // SAFETY: single-threaded at this point; Jetstreamer reads these on its first run.
    unsafe {
        std::env::set_var("JETSTREAMER_HTTP_BASE_URL", url);
        std::env::set_var("JETSTREAMER_COMPACT_INDEX_BASE_URL", url);
    }
    let (lines, mut receiver) = tokio::sync::mpsc::channel::<Vec<u8>>(1000);
    let writer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        while let Some(line) = receiver.blocking_recv() {
            out.write_all(&line).expect("stdout closed");
        }
        out.flush().expect("stdout closed");
    });
    let on_tx = move |_thread: usize, tx: TransactionData| {
        let lines = lines.clone();
        async move {
            let meta = &tx.transaction_status_meta;
            if tx.is_vote || meta.status.is_err() || !invokes(&program, &tx) {
                return Ok(());
            }
            let logs = meta.log_messages.as_deref().unwrap_or(&[]);
            let record = Record { signature: tx.signature.to_string(), slot: tx.slot, block_time: None, logs };
            let mut line = serde_json::to_vec(&record).expect("serializable");
            line.push(b'\n');
            lines.send(line).await.map_err(|err| err.to_string().into())
        }
        .boxed()
    };
    firehose(
        threads,
        false,
        false,
        None,
        start..end + 1,
        None::<OnBlockFn>,
        Some(on_tx),
        None::<OnEntryFn>,
        None::<OnRewardFn>,
        None::<OnErrorFn>,
        None::<OnStatsTrackingFn>,
        None,
    )
    .await
    .expect("firehose failed");
    writer.join().expect("writer thread");
}
