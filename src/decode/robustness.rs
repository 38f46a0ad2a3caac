//! Property checks on hostile input: the IDL reader and the payload decoder return errors,
//! never panic, never allocate ahead of the bytes they were given. Seeded and repeatable
//! (xorshift), so a failure names the case that produced it.

use serde_json::Value;

use super::borsh::Reader;
use super::idl::{Idl, parse_idl};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length).map(|_| self.next() as u8).collect()
    }
}

fn corpus_idls() -> Vec<(String, Value)> {
    let dir = format!("{}/../shared/corpus/idls", env!("CARGO_MANIFEST_DIR"));
    let mut idls: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.display().to_string(), serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap())
        })
        .collect();
    idls.sort_by(|a, b| a.0.cmp(&b.0));
    idls
}

fn decode_everything(idl: &Idl, payload: &[u8]) {
    for event in &idl.events {
        let mut reader = Reader::new(payload, &idl.types);
        let _ = reader.fields(&event.fields).and_then(|_| reader.finish());
    }
    for ix in &idl.instructions {
        let mut reader = Reader::new(payload, &idl.types);
        let _ = reader.fields(&ix.args);
    }
}

fn random_value(random: &mut XorShift) -> Value {
    match random.below(8) {
        0 => Value::Null,
        1 => Value::from(random.below(300) as u64),
        2 => Value::from(-1),
        3 => Value::from("u128"),
        4 => serde_json::json!({ "defined": "Loop" }),
        5 => serde_json::json!({ "vec": { "array": ["u8", 4_000_000_000u64] } }),
        6 => serde_json::json!([]),
        _ => serde_json::json!({ "kind": "enum", "variants": [] }),
    }
}

/// Replaces one node of the JSON tree, reached by a random walk, by a random value.
fn mutate(value: &mut Value, random: &mut XorShift, steps: usize) {
    if steps > 0 {
        match value {
            Value::Array(items) if !items.is_empty() => {
                let index = random.below(items.len());
                return mutate(&mut items[index], random, steps - 1);
            }
            Value::Object(fields) if !fields.is_empty() => {
                let key = fields.keys().nth(random.below(fields.len())).unwrap().clone();
                return mutate(fields.get_mut(&key).unwrap(), random, steps - 1);
            }
            _ => {}
        }
    }
    *value = random_value(random);
}

#[test]
fn random_payloads_never_panic_the_decoder() {
    let mut random = XorShift(0x5eed_0001);
    for (name, value) in corpus_idls() {
        let idl = parse_idl(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        for _ in 0..400 {
            let length = random.below(400);
            decode_everything(&idl, &random.bytes(length));
            // Huge length prefixes, option and enum tags in the first bytes.
            let mut hostile = vec![0xff; 4];
            let tail = random.below(64);
            hostile.extend(random.bytes(tail));
            decode_everything(&idl, &hostile);
        }
    }
}

#[test]
fn mutated_idls_are_rejected_or_decode_without_panicking() {
    let mut random = XorShift(0x5eed_0002);
    let idls = corpus_idls();
    let mut parsed = 0;
    for round in 0..3000 {
        let (_, original) = &idls[round % idls.len()];
        let mut value = original.clone();
        for _ in 0..1 + random.below(3) {
            let steps = random.below(8);
            mutate(&mut value, &mut random, steps);
        }
        if let Ok(idl) = parse_idl(&value) {
            parsed += 1;
            for _ in 0..4 {
                let length = random.below(200);
                decode_everything(&idl, &random.bytes(length));
            }
        }
    }
    assert!(parsed > 100, "the mutations should leave many IDLs readable ({parsed})");
}

#[test]
fn a_self_referencing_type_is_an_error_not_a_stack_overflow() {
    let idl = parse_idl(&serde_json::json!({
        "address": "x", "metadata": { "spec": "0.1.0" },
        "instructions": [],
        "events": [{ "name": "Loop", "discriminator": [1, 2, 3, 4, 5, 6, 7, 8] }],
        "types": [{ "name": "Loop", "type": { "kind": "struct", "fields": [{ "name": "next", "type": { "defined": { "name": "Loop" } } }] } }],
    }))
    .unwrap();
    let mut reader = Reader::new(&[0; 64], &idl.types);
    assert!(reader.fields(&idl.events[0].fields).is_err());
}
