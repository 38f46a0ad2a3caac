//! The Rust half of `bench/decode.js`: the package's decoder alone on the same logs Anchor's
//! EventParser reads. Compiled into the library's test binary (napi's symbols come from Node,
//! and only the test harness links the crate without them), ignored unless asked for:
//!
//! UHO_DECODE_BENCH=input.json cargo test --release --lib decode_bench -- --ignored --nocapture
//!
//! input.json: `{ idls: [{ programId, idl }], logs: [[line, ...], ...], rounds }`. Prints one
//! JSON line.

use std::time::Instant;

use serde::Deserialize;
use solana_message::{VersionedMessage, legacy};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status::TransactionStatusMeta;

use crate::decode::Registry;
use crate::options::{IdlOption, decode_pubkey};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    idls: Vec<IdlInput>,
    logs: Vec<Vec<String>>,
    rounds: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdlInput {
    program_id: String,
    idl: serde_json::Value,
}

#[test]
#[ignore = "a benchmark: run by bench/decode.js"]
fn decode_bench() {
    let path = std::env::var("UHO_DECODE_BENCH").expect("UHO_DECODE_BENCH names the input file");
    let input: Input = serde_json::from_str(&std::fs::read_to_string(path).expect("read input")).expect("parse input");
    let options: Vec<IdlOption> = input
        .idls
        .into_iter()
        .map(|entry| IdlOption {
            program_id: decode_pubkey("programId", &entry.program_id).expect("program id"),
            idl: entry.idl,
            from_slot: None,
            to_slot: None,
        })
        .collect();
    let registry = Registry::new(&options).expect("idls");
    let transactions: Vec<(VersionedTransaction, TransactionStatusMeta)> = input
        .logs
        .into_iter()
        .map(|logs| {
            let tx = VersionedTransaction { signatures: vec![Default::default()], message: VersionedMessage::Legacy(legacy::Message::default()) };
            (tx, TransactionStatusMeta { log_messages: Some(logs), ..Default::default() })
        })
        .collect();
    let started = Instant::now();
    let mut events = 0usize;
    for _ in 0..input.rounds {
        for (tx, meta) in &transactions {
            events += registry.decode(1, tx, meta, true).events.len();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{{\"events\":{events},\"seconds\":{seconds},\"eventsPerSecond\":{}}}", events as f64 / seconds);
}
