//! `startBackfill` options: validated and defaulted into a plain [`JobConfig`].
//!
//! Input is the JSON form of the JS options object (the napi edge converts it, keeping
//! `undefined` as "absent"), so every rule here is testable without a JS engine. Every
//! error names the field it is about, and its kind decides whether JS sees a `TypeError` or
//! a `RangeError`, following Node's own `ERR_INVALID_ARG_TYPE` / `ERR_OUT_OF_RANGE` split.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::ranges::RangeSet;

pub const DEFAULT_ARCHIVE_URL: &str = "https://files.old-faithful.net/";
pub const SLOTS_PER_EPOCH: u64 = 432_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMode {
    /// The program runs in the transaction: a top-level or inner instruction's program id.
    Invokes,
    /// The program's key appears anywhere: static keys or keys loaded from lookup tables.
    Mentions,
}

#[derive(Clone, Debug)]
pub struct JobConfig {
    pub program_ids: Vec<[u8; 32]>,
    /// Inclusive.
    pub start_slot: u64,
    /// Inclusive.
    pub end_slot: u64,
    pub match_mode: MatchMode,
    pub include_failed: bool,
    pub delivery: Delivery,
    pub threads: u64,
    /// Always ends with `/`: Jetstreamer resolves file names with `Url::join`.
    pub archive_url: String,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_queued_batches: usize,
    pub skip_ranges: RangeSet,
    pub max_attempts: u32,
    pub log_level: Option<log::LevelFilter>,
    /// IDL documents as given, one entry per `idls[]` element; decoded by `decode::Registry`.
    pub idls: Vec<IdlOption>,
}

/// What a batch carries besides events and checkpoints. A consumer that only stores decoded
/// events skips parsing transactions on its (Node) thread.
#[derive(Clone, Copy, Debug)]
pub struct Delivery {
    pub transactions: bool,
    pub instructions: bool,
}

#[derive(Clone, Debug)]
pub struct IdlOption {
    pub program_id: [u8; 32],
    pub idl: Value,
    pub from_slot: Option<u64>,
    pub to_slot: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Wrong type, malformed or unknown value: JS `TypeError`.
    Type,
    /// A number outside its allowed range: JS `RangeError`.
    Range,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    pub kind: ErrorKind,
    pub field: String,
    pub message: String,
}

impl OptionError {
    pub fn type_error(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Type, field: field.into(), message: message.into() }
    }

    pub fn range_error(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Range, field: field.into(), message: message.into() }
    }

    /// Node's error code for this kind, set as `error.code` in JS.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Type => "ERR_INVALID_ARG_TYPE",
            ErrorKind::Range => "ERR_OUT_OF_RANGE",
        }
    }
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "options.{}: {}", self.field, self.message)
    }
}

impl std::error::Error for OptionError {}

type Parsed<T> = Result<T, OptionError>;

const KNOWN_FIELDS: &[&str] = &[
    "programIds",
    "startSlot",
    "endSlot",
    "epochs",
    "match",
    "includeFailed",
    "transactionDetails",
    "decodeInstructions",
    "threads",
    "archiveUrl",
    "batchSize",
    "flushIntervalMs",
    "maxQueuedBatches",
    "skipRanges",
    "retry",
    "logLevel",
    "idls",
];

pub fn parse_options(options: &Value, default_threads: u64) -> Parsed<JobConfig> {
    let Value::Object(fields) = options else {
        return Err(OptionError::type_error("", "options must be an object"));
    };
    if let Some(unknown) = fields.keys().find(|key| !KNOWN_FIELDS.contains(&key.as_str())) {
        let hint = KNOWN_FIELDS
            .iter()
            .find(|known| known.to_lowercase().starts_with(&unknown.to_lowercase()))
            .map(|known| format!(" (did you mean {known}?)"))
            .unwrap_or_default();
        return Err(OptionError::type_error(
            unknown.clone(),
            format!("unknown option{hint}; known options are {}", KNOWN_FIELDS.join(", ")),
        ));
    }

    let program_ids = parse_program_ids(fields)?;
    let (start_slot, end_slot) = parse_slot_range(fields)?;
    let match_mode = match optional_string(fields, "match")?.as_deref() {
        None | Some("invokes") => MatchMode::Invokes,
        Some("mentions") => MatchMode::Mentions,
        Some(other) => {
            return Err(OptionError::type_error(
                "match",
                format!("must be 'invokes' or 'mentions', got '{other}'"),
            ));
        }
    };
    let include_failed = optional_bool(fields, "includeFailed")?.unwrap_or(false);
    let transactions = match optional_string(fields, "transactionDetails")?.as_deref() {
        None | Some("full") => true,
        Some("none") => false,
        Some(other) => {
            return Err(OptionError::type_error(
                "transactionDetails",
                format!("must be 'full' or 'none', got '{other}'"),
            ));
        }
    };
    let instructions = optional_bool(fields, "decodeInstructions")?.unwrap_or(true);
    let threads = optional_integer(fields, "threads", 1, 1024)?.unwrap_or(default_threads.max(1));
    let archive_url = match optional_string(fields, "archiveUrl")? {
        None => DEFAULT_ARCHIVE_URL.to_string(),
        Some(url) => normalize_archive_url(&url)?,
    };
    let batch_size = optional_integer(fields, "batchSize", 1, 1_000_000)?.unwrap_or(1000) as usize;
    let flush_interval_ms =
        optional_integer(fields, "flushIntervalMs", 1, 3_600_000)?.unwrap_or(1000);
    let max_queued_batches =
        optional_integer(fields, "maxQueuedBatches", 1, 1024)?.unwrap_or(4) as usize;
    let skip_ranges = parse_skip_ranges(fields)?;
    let max_attempts = parse_retry(fields)?;
    let log_level = parse_log_level(fields)?;
    let idls = parse_idls(fields)?;

    Ok(JobConfig {
        program_ids,
        start_slot,
        end_slot,
        match_mode,
        include_failed,
        delivery: Delivery { transactions, instructions },
        threads,
        archive_url,
        batch_size,
        flush_interval: Duration::from_millis(flush_interval_ms),
        max_queued_batches,
        skip_ranges,
        max_attempts,
        log_level,
        idls,
    })
}

pub fn decode_pubkey(field: &str, text: &str) -> Parsed<[u8; 32]> {
    let bytes = bs58::decode(text).into_vec().map_err(|err| {
        OptionError::type_error(field, format!("'{text}' is not valid base58 ({err})"))
    })?;
    bytes.as_slice().try_into().map_err(|_| {
        OptionError::type_error(
            field,
            format!("'{text}' decodes to {} bytes; a public key has 32", bytes.len()),
        )
    })
}

fn parse_program_ids(fields: &Map<String, Value>) -> Parsed<Vec<[u8; 32]>> {
    let Some(value) = fields.get("programIds") else {
        return Err(OptionError::type_error("programIds", "is required: an array of base58 program ids"));
    };
    let Value::Array(items) = value else {
        return Err(OptionError::type_error("programIds", "must be an array of base58 strings"));
    };
    if items.is_empty() {
        return Err(OptionError::type_error("programIds", "must list at least one program id"));
    }
    let mut ids = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = format!("programIds[{index}]");
        let Value::String(text) = item else {
            return Err(OptionError::type_error(field, "must be a base58 string"));
        };
        let id = decode_pubkey(&field, text)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn parse_slot_range(fields: &Map<String, Value>) -> Parsed<(u64, u64)> {
    let has_slots = fields.contains_key("startSlot") || fields.contains_key("endSlot");
    match (has_slots, fields.get("epochs")) {
        (true, Some(_)) => Err(OptionError::type_error(
            "epochs",
            "give either startSlot/endSlot or epochs, not both",
        )),
        (false, None) => Err(OptionError::type_error(
            "startSlot",
            "a range is required: startSlot and endSlot (inclusive), or epochs: [first, last]",
        )),
        (true, None) => {
            let start = required_integer(fields, "startSlot")?;
            let end = required_integer(fields, "endSlot")?;
            if start > end {
                return Err(OptionError::range_error(
                    "startSlot",
                    format!("startSlot {start} is after endSlot {end}"),
                ));
            }
            Ok((start, end))
        }
        (false, Some(value)) => {
            let (first, last) = match value {
                Value::Array(items) if items.len() == 2 => (
                    integer_value("epochs[0]", &items[0], 0, MAX_EPOCH)?,
                    integer_value("epochs[1]", &items[1], 0, MAX_EPOCH)?,
                ),
                Value::Number(_) => {
                    let epoch = integer_value("epochs", value, 0, MAX_EPOCH)?;
                    (epoch, epoch)
                }
                _ => {
                    return Err(OptionError::type_error(
                        "epochs",
                        "must be [firstEpoch, lastEpoch] (inclusive) or one epoch number",
                    ));
                }
            };
            if first > last {
                return Err(OptionError::range_error(
                    "epochs",
                    format!("first epoch {first} is after last epoch {last}"),
                ));
            }
            Ok((first * SLOTS_PER_EPOCH, (last + 1) * SLOTS_PER_EPOCH - 1))
        }
    }
}

/// Slots beyond 2^53 cannot be written exactly as JS numbers; no Solana epoch is near it.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
const MAX_EPOCH: u64 = MAX_SAFE_INTEGER / SLOTS_PER_EPOCH - 1;

fn parse_skip_ranges(fields: &Map<String, Value>) -> Parsed<RangeSet> {
    let Some(value) = fields.get("skipRanges") else {
        return Ok(RangeSet::new());
    };
    let Value::Array(items) = value else {
        return Err(OptionError::type_error("skipRanges", "must be an array of [startSlot, endSlot] pairs"));
    };
    let mut set = RangeSet::new();
    for (index, item) in items.iter().enumerate() {
        let field = format!("skipRanges[{index}]");
        let Value::Array(pair) = item else {
            return Err(OptionError::type_error(field, "must be a [startSlot, endSlot] pair"));
        };
        if pair.len() != 2 {
            return Err(OptionError::type_error(
                field,
                format!("must be a [startSlot, endSlot] pair, got {} elements", pair.len()),
            ));
        }
        let start = integer_value(&format!("{field}[0]"), &pair[0], 0, MAX_SAFE_INTEGER)?;
        let end = integer_value(&format!("{field}[1]"), &pair[1], 0, MAX_SAFE_INTEGER)?;
        if start > end {
            return Err(OptionError::range_error(field, format!("start {start} is after end {end}")));
        }
        set.insert(start, end);
    }
    Ok(set)
}

fn parse_retry(fields: &Map<String, Value>) -> Parsed<u32> {
    match fields.get("retry") {
        None => Ok(8),
        Some(Value::Object(retry)) => {
            if let Some(unknown) = retry.keys().find(|key| key.as_str() != "maxAttempts") {
                return Err(OptionError::type_error(
                    format!("retry.{unknown}"),
                    "unknown option; retry takes { maxAttempts }",
                ));
            }
            match retry.get("maxAttempts") {
                None => Ok(8),
                Some(value) => Ok(integer_value("retry.maxAttempts", value, 1, 1000)? as u32),
            }
        }
        Some(_) => Err(OptionError::type_error("retry", "must be an object: { maxAttempts }")),
    }
}

fn parse_log_level(fields: &Map<String, Value>) -> Parsed<Option<log::LevelFilter>> {
    let Some(level) = optional_string(fields, "logLevel")? else {
        return Ok(None);
    };
    let filter = match level.as_str() {
        "off" => return Ok(None),
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "info" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        other => {
            return Err(OptionError::type_error(
                "logLevel",
                format!("must be one of off, error, warn, info, debug, trace; got '{other}'"),
            ));
        }
    };
    Ok(Some(filter))
}

fn parse_idls(fields: &Map<String, Value>) -> Parsed<Vec<IdlOption>> {
    let Some(value) = fields.get("idls") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(OptionError::type_error("idls", "must be an array of { programId, idl, fromSlot?, toSlot? }"));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let field = format!("idls[{index}]");
            let Value::Object(entry) = item else {
                return Err(OptionError::type_error(field, "must be an object { programId, idl, fromSlot?, toSlot? }"));
            };
            for key in entry.keys() {
                if !["programId", "idl", "fromSlot", "toSlot"].contains(&key.as_str()) {
                    return Err(OptionError::type_error(
                        format!("{field}.{key}"),
                        "unknown option; an idls entry takes programId, idl, fromSlot, toSlot",
                    ));
                }
            }
            let program_id = match entry.get("programId") {
                Some(Value::String(text)) => decode_pubkey(&format!("{field}.programId"), text)?,
                _ => return Err(OptionError::type_error(format!("{field}.programId"), "must be a base58 string")),
            };
            let idl = match entry.get("idl") {
                Some(Value::String(text)) => serde_json::from_str(text).map_err(|err| {
                    OptionError::type_error(format!("{field}.idl"), format!("is not valid JSON: {err}"))
                })?,
                Some(object @ Value::Object(_)) => object.clone(),
                _ => return Err(OptionError::type_error(format!("{field}.idl"), "must be an IDL object or its JSON text")),
            };
            let from_slot = entry
                .get("fromSlot")
                .map(|v| integer_value(&format!("{field}.fromSlot"), v, 0, MAX_SAFE_INTEGER))
                .transpose()?;
            let to_slot = entry
                .get("toSlot")
                .map(|v| integer_value(&format!("{field}.toSlot"), v, 0, MAX_SAFE_INTEGER))
                .transpose()?;
            if let (Some(from), Some(to)) = (from_slot, to_slot)
                && from > to
            {
                return Err(OptionError::range_error(field, format!("fromSlot {from} is after toSlot {to}")));
            }
            Ok(IdlOption { program_id, idl, from_slot, to_slot })
        })
        .collect()
}

fn normalize_archive_url(url: &str) -> Parsed<String> {
    let invalid = |why: &str| OptionError::type_error("archiveUrl", format!("'{url}' {why}"));
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("must be an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("has no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid("must not have a query or fragment: archive files are resolved below it"));
    }
    if let Some(port) = host.rsplit_once(':').map(|(_, port)| port)
        && !host.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(invalid("has an invalid port"));
    }
    Ok(if url.ends_with('/') { url.to_string() } else { format!("{url}/") })
}

fn required_integer(fields: &Map<String, Value>, field: &str) -> Parsed<u64> {
    match fields.get(field) {
        Some(value) => integer_value(field, value, 0, MAX_SAFE_INTEGER),
        None => Err(OptionError::type_error(field, "is required")),
    }
}

fn optional_integer(fields: &Map<String, Value>, field: &str, min: u64, max: u64) -> Parsed<Option<u64>> {
    fields.get(field).map(|value| integer_value(field, value, min, max)).transpose()
}

fn integer_value(field: &str, value: &Value, min: u64, max: u64) -> Parsed<u64> {
    let Value::Number(number) = value else {
        return Err(OptionError::type_error(field, format!("must be an integer, got {}", describe(value))));
    };
    let integer = if let Some(unsigned) = number.as_u64() {
        unsigned
    } else if number.as_i64().is_some() {
        return Err(OptionError::range_error(field, format!("must be >= {min}, got {number}")));
    } else {
        let float = number.as_f64().unwrap_or(f64::NAN);
        if float.fract() != 0.0 || !float.is_finite() {
            return Err(OptionError::type_error(field, format!("must be an integer, got {number}")));
        }
        if float < 0.0 {
            return Err(OptionError::range_error(field, format!("must be >= {min}, got {number}")));
        }
        return Err(OptionError::range_error(field, format!("must be <= {max}, got {number}")));
    };
    if integer < min {
        return Err(OptionError::range_error(field, format!("must be >= {min}, got {integer}")));
    }
    if integer > max {
        return Err(OptionError::range_error(field, format!("must be <= {max}, got {integer}")));
    }
    Ok(integer)
}

fn optional_string(fields: &Map<String, Value>, field: &str) -> Parsed<Option<String>> {
    match fields.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(OptionError::type_error(field, format!("must be a string, got {}", describe(other)))),
    }
}

fn optional_bool(fields: &Map<String, Value>, field: &str) -> Parsed<Option<bool>> {
    match fields.get(field) {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(other) => Err(OptionError::type_error(field, format!("must be a boolean, got {}", describe(other)))),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(flag) => format!("boolean {flag}"),
        Value::Number(number) => format!("number {number}"),
        Value::String(text) => format!("string '{text}'"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PUMP: &str = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P";

    fn parse(options: Value) -> Parsed<JobConfig> {
        parse_options(&options, 3)
    }

    fn error_of(options: Value) -> OptionError {
        parse(options).expect_err("options should be rejected")
    }

    #[test]
    fn defaults_fill_a_minimal_job() {
        let config = parse(json!({ "programIds": [PUMP], "startSlot": 10, "endSlot": 20 })).unwrap();
        assert_eq!((config.start_slot, config.end_slot), (10, 20));
        assert_eq!(config.match_mode, MatchMode::Invokes);
        assert!(!config.include_failed);
        assert!(config.delivery.transactions && config.delivery.instructions);
        assert_eq!(config.threads, 3);
        assert_eq!(config.archive_url, DEFAULT_ARCHIVE_URL);
        assert_eq!((config.batch_size, config.max_queued_batches, config.max_attempts), (1000, 4, 8));
        assert_eq!(config.flush_interval, Duration::from_millis(1000));
        assert_eq!(bs58::encode(config.program_ids[0]).into_string(), PUMP);
    }

    #[test]
    fn epochs_expand_to_whole_epochs() {
        let config = parse(json!({ "programIds": [PUMP], "epochs": [800, 802] })).unwrap();
        assert_eq!(config.start_slot, 800 * SLOTS_PER_EPOCH);
        assert_eq!(config.end_slot, 803 * SLOTS_PER_EPOCH - 1);
    }

    #[test]
    fn archive_url_gets_its_trailing_slash() {
        let config = parse(json!({ "programIds": [PUMP], "epochs": 1, "archiveUrl": "http://127.0.0.1:9/a" })).unwrap();
        assert_eq!(config.archive_url, "http://127.0.0.1:9/a/");
    }

    #[test]
    fn every_bad_input_names_its_field() {
        let base = || json!({ "programIds": [PUMP], "startSlot": 1, "endSlot": 2 });
        let with = |key: &str, value: Value| {
            let mut options = base();
            options[key] = value;
            options
        };
        let cases: Vec<(Value, &str, ErrorKind)> = vec![
            (json!({ "startSlot": 1, "endSlot": 2 }), "programIds", ErrorKind::Type),
            (with("programIds", json!([])), "programIds", ErrorKind::Type),
            (with("programIds", json!(["0OIl"])), "programIds[0]", ErrorKind::Type),
            (with("programIds", json!([PUMP, "abc"])), "programIds[1]", ErrorKind::Type),
            (with("startSlot", json!(5)), "startSlot", ErrorKind::Range),
            (with("startSlot", json!(-1)), "startSlot", ErrorKind::Range),
            (with("startSlot", json!(1.5)), "startSlot", ErrorKind::Type),
            (with("endSlot", json!("2")), "endSlot", ErrorKind::Type),
            (with("epochs", json!([1, 2])), "epochs", ErrorKind::Type),
            (with("threads", json!(0)), "threads", ErrorKind::Range),
            (with("match", json!("calls")), "match", ErrorKind::Type),
            (with("transactionDetails", json!("signatures")), "transactionDetails", ErrorKind::Type),
            (with("decodeInstructions", json!("no")), "decodeInstructions", ErrorKind::Type),
            (with("archiveUrl", json!("ftp://x")), "archiveUrl", ErrorKind::Type),
            (with("archiveUrl", json!("http://")), "archiveUrl", ErrorKind::Type),
            (with("skipRanges", json!([[5, 1]])), "skipRanges[0]", ErrorKind::Range),
            (with("skipRanges", json!([[5]])), "skipRanges[0]", ErrorKind::Type),
            (with("skipRanges", json!({})), "skipRanges", ErrorKind::Type),
            (with("retry", json!({ "maxAttempts": 0 })), "retry.maxAttempts", ErrorKind::Range),
            (with("batchSize", json!(0)), "batchSize", ErrorKind::Range),
            (with("programId", json!(PUMP)), "programId", ErrorKind::Type),
        ];
        for (options, field, kind) in cases {
            let error = error_of(options.clone());
            assert_eq!((error.field.as_str(), error.kind), (field, kind), "{options} -> {error}");
        }
        assert!(error_of(with("programId", json!(PUMP))).message.contains("did you mean programIds"));
    }
}
