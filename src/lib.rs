//! `@uho/backfill`: the napi surface. JS options in, JS batches out; everything else lives in
//! modules that know nothing of JavaScript.

mod allocator;
pub mod archive;
pub mod batch;
pub mod decode;
pub mod engine;
mod epoch_cache;
pub mod error;
pub mod filter;
mod js_value;
pub mod options;
pub mod presence;
mod process;
pub mod ranges;
pub mod record;
pub mod slots;

#[cfg(test)]
#[path = "../bench/decode_events.rs"]
mod decode_bench;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, JsValue};
use napi_derive::napi;

use engine::{BatchSink, JobControl};
use error::JobError;
use options::{ErrorKind, JobConfig, OptionError};
use record::{Batch, Progress, Summary};

#[napi_derive::module_init]
fn init() {
    allocator::return_memory_promptly();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("uho-backfill")
        .build()
        .expect("the backfill tokio runtime could not start");
    create_custom_tokio_runtime(runtime);
}

/// Options of `startBackfill`. Give the range as `startSlot` + `endSlot` or as `epochs`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // Declares the TypeScript type; parsing is in options.rs so errors name fields.
pub struct BackfillOptions {
    /// Base58 program ids (1..N). A transaction matches if it touches any of them.
    pub program_ids: Vec<String>,
    /// First slot, inclusive.
    pub start_slot: Option<f64>,
    /// Last slot, inclusive.
    pub end_slot: Option<f64>,
    /// `[first, last]` epochs, inclusive, or one epoch.
    #[napi(ts_type = "[number, number] | number")]
    pub epochs: Option<Vec<f64>>,
    /// 'invokes' (default): a top-level or inner instruction runs the program.
    /// 'mentions': the program's key is among the static or lookup-table-loaded keys.
    #[napi(ts_type = "'invokes' | 'mentions'")]
    pub r#match: Option<String>,
    /// Deliver failed transactions too (default false). Votes are never delivered.
    pub include_failed: Option<bool>,
    /**
     * 'full' (default): batches carry the matched transactions. 'none': `transactions` is
     * empty; events, instructions and checkpoints still come, and the Node thread is spared
     * parsing what an events-only consumer drops.
     */
    #[napi(ts_type = "'full' | 'none'")]
    pub transaction_details: Option<String>,
    /// Deliver decoded instructions (default true); false leaves `instructions` empty.
    pub decode_instructions: Option<bool>,
    /// Firehose threads (default: Jetstreamer's hardware heuristic).
    pub threads: Option<u32>,
    /// Old Faithful or a mirror, for CARs and slot indexes alike. One URL per process.
    pub archive_url: Option<String>,
    /// Transactions per batch (default 1000). Slots are never split across batches, so a
    /// slot with more matches than this travels alone in a larger batch.
    pub batch_size: Option<u32>,
    /// A batch is sent at least this often while anything is new (default 1000).
    pub flush_interval_ms: Option<u32>,
    /// Sealed batches that may wait for `onBatch` (default 4): the memory bound.
    pub max_queued_batches: Option<u32>,
    /// Already-completed inclusive ranges, e.g. a saved `checkpoint.completedRanges`.
    #[napi(ts_type = "Array<[number, number]>")]
    pub skip_ranges: Option<Vec<Vec<f64>>>,
    /// Attempts per failing slot before the job fails (default 8).
    #[napi(ts_type = "{ maxAttempts?: number }")]
    pub retry: Option<serde_json::Value>,
    /// Jetstreamer's logging to stderr (default 'off'); process-wide.
    #[napi(ts_type = "'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace'")]
    pub log_level: Option<String>,
    /// Anchor IDLs to decode events and instructions with.
    #[napi(ts_type = "Array<{ programId: string; idl: object | string; fromSlot?: number; toSlot?: number }>")]
    pub idls: Option<Vec<serde_json::Value>>,
}

/// A running backfill. `done` settles once the job has finished, failed or been cancelled,
/// and only after any `onBatch` call in flight has settled.
#[napi(custom_finalize)]
pub struct BackfillJob {
    control: Arc<JobControl>,
    done: Option<ObjectRef<false>>,
}

#[napi]
impl BackfillJob {
    /// Stops the job: no `onBatch` call starts after this returns. Idempotent.
    #[napi]
    pub fn cancel(&self) {
        self.control.cancel();
    }

    /// A live snapshot, readable at any time.
    #[napi(getter)]
    pub fn progress(&self) -> Progress {
        self.control.progress()
    }

    #[napi(getter, ts_return_type = "Promise<Summary>")]
    pub fn done<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        match &self.done {
            Some(done) => done.get_value(env),
            None => Err(Error::from_reason("the job handle was released")),
        }
    }
}

impl ObjectFinalize for BackfillJob {
    fn finalize(self, env: Env) -> Result<()> {
        if let Some(done) = self.done {
            done.unref(&env)?;
        }
        Ok(())
    }
}

type OnBatchTsfn = ThreadsafeFunction<String, Either<Promise<()>, ()>, String, Status, false, true, 0>;

/// Delivers batches through the threadsafe function and waits for the promise it returns.
struct JsSink {
    on_batch: OnBatchTsfn,
}

/// What `onBatch` threw or rejected with; the JS value itself is kept for `error.cause`.
struct OnBatchError(Error);

impl std::fmt::Display for OnBatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.reason)
    }
}

impl BatchSink for JsSink {
    type Error = OnBatchError;

    async fn deliver(&self, batch: Batch) -> std::result::Result<(), OnBatchError> {
        // Serialising a large batch takes milliseconds: off the async workers the firehose
        // threads run on.
        let json = tokio::task::spawn_blocking(move || serde_json::to_string(&batch))
            .await
            .map_err(|err| OnBatchError(Error::from_reason(err.to_string())))?
            .map_err(|err| OnBatchError(Error::from_reason(err.to_string())))?;
        let returned = self.on_batch.call_async_catch(json).await.map_err(OnBatchError)?;
        match returned {
            Either::A(promise) => promise.await.map_err(OnBatchError),
            Either::B(()) => Ok(()),
        }
    }
}

fn throw_option_error(env: &Env, error: &OptionError) -> Error {
    let message = error.to_string();
    let _ = match error.kind {
        ErrorKind::Type => env.throw_type_error(&message, Some(error.code())),
        ErrorKind::Range => env.throw_range_error(&message, Some(error.code())),
    };
    Error::new(Status::PendingException, message)
}

/// Streams every transaction of the given programs in the slot range to `onBatch`, in
/// batches, on the addon's own threads. The next batch waits for `onBatch`'s promise.
#[napi(ts_args_type = "options: BackfillOptions, onBatch: (batch: Batch) => Promise<void> | void")]
pub fn start_backfill(env: &Env, options: Unknown, on_batch: Unknown) -> Result<BackfillJob> {
    let options_json = match js_value::to_json(&options, "") {
        Ok(Some(json)) => json,
        Ok(None) => return Err(throw_option_error(env, &OptionError::type_error("", "options must be an object"))),
        Err(error) => return Err(throw_option_error(env, &error)),
    };
    let default_threads = jetstreamer_firehose::system::optimal_firehose_thread_count() as u64;
    let config: JobConfig = options::parse_options(&options_json, default_threads)
        .map_err(|error| throw_option_error(env, &error))?;
    let registry = decode::Registry::new(&config.idls).map_err(|error| throw_option_error(env, &error))?;
    if on_batch.get_type()? != ValueType::Function {
        let _ = env.throw_type_error("onBatch must be a function", Some("ERR_INVALID_ARG_TYPE"));
        return Err(Error::new(Status::PendingException, "onBatch must be a function"));
    }
    if let Err(conflict) = process::use_archive_url(&config.archive_url) {
        let message = conflict.to_string();
        let _ = env.throw_error(&message, Some("ERR_BACKFILL_ARCHIVE_URL"));
        return Err(Error::new(Status::PendingException, message));
    }
    process::set_log_level(config.log_level);

    let control = Arc::new(JobControl::default());
    let sink = Arc::new(JsSink { on_batch: trampoline(env, &control, on_batch)? });

    let (deferred, promise) = env.create_deferred::<Summary, Box<dyn FnOnce(Env) -> Result<Summary>>>()?;
    let job = engine::run_job(Arc::new(config), Arc::new(registry), control.clone(), sink);
    spawn(async move {
        let outcome = job.await;
        deferred.resolve(Box::new(move |env: Env| match outcome {
            Ok(summary) => Ok(summary),
            Err(error) => Err(job_error_to_js(&env, error)),
        }));
    });
    Ok(BackfillJob { control, done: Some(promise.create_ref::<false>()?) })
}

/// The threadsafe function that calls `onBatch`. It goes through a small wrapper that
/// checks for cancellation on the JS thread itself: a batch already queued when `cancel()`
/// ran is then never handed over.
fn trampoline(env: &Env, control: &Arc<JobControl>, on_batch: Unknown) -> Result<OnBatchTsfn> {
    type Guard<'a> = Function<'a, String, Either<Promise<()>, ()>>;
    let factory: Function<FnArgs<(Unknown, Function<(), bool>)>, Guard> = env.run_script(
        "(onBatch, isCancelled) => function onBatchUnlessCancelled(batchJson) {\n\
           return isCancelled() ? undefined : onBatch(JSON.parse(batchJson));\n\
         }",
    )?;
    let control = control.clone();
    let is_cancelled = env.create_function_from_closure::<(), bool, _>("isCancelled", move |_| Ok(control.is_cancelled()))?;
    let guard = factory.call(FnArgs::from((on_batch, is_cancelled)))?;
    guard.build_threadsafe_function::<String>().callee_handled::<false>().weak::<true>().build()
}

fn job_error_to_js(env: &Env, error: JobError<OnBatchError>) -> Error {
    let code = error.code();
    let message = error.to_string();
    let build = || -> Result<Unknown> {
        let mut js_error = env.create_error(Error::new(Status::GenericFailure, message.clone()))?;
        js_error.set_named_property("code", code)?;
        match error {
            JobError::Consumer(OnBatchError(cause)) => {
                js_error.set_named_property("cause", JsError::from(cause).into_unknown(*env))?;
            }
            JobError::Archive(archive) => {
                js_error.set_named_property("url", archive.url)?;
                js_error.set_named_property("epoch", archive.epoch as f64)?;
                if let Some(slot) = archive.slot {
                    js_error.set_named_property("slot", slot as f64)?;
                }
            }
            JobError::Coverage { missing_slot, .. } => {
                js_error.set_named_property("slot", missing_slot as f64)?;
            }
            JobError::Internal(_) => {}
        }
        Ok(js_error.to_unknown())
    };
    match build() {
        Ok(value) => Error::from_unknown_without_coercion(value),
        Err(_) => Error::new(Status::GenericFailure, message),
    }
}

/// Writes an Old Faithful-layout archive (per epoch: CAR + slot-ranges index) from a JSON
/// description of blocks and transactions. Resolves to one entry per epoch written.
#[napi(ts_args_type = "specJson: string, dir: string")]
pub async fn write_archive_json(spec_json: String, dir: String) -> Result<Vec<WrittenEpoch>> {
    let written = tokio::task::spawn_blocking(move || {
        let spec: archive::ArchiveSpec = serde_json::from_str(&spec_json).map_err(|err| err.to_string())?;
        archive::write_archive(&spec, std::path::Path::new(&dir))
    })
    .await
    .map_err(|err| Error::from_reason(err.to_string()))?
    .map_err(|err| Error::new(Status::InvalidArg, format!("archive spec: {err}")))?;
    Ok(written
        .into_iter()
        .map(|epoch| WrittenEpoch {
            epoch: epoch.epoch as i64,
            car_path: epoch.car_path.display().to_string(),
            index_path: epoch.index_path.display().to_string(),
            car_bytes: epoch.car_bytes as i64,
            blocks: epoch.blocks as i64,
            transactions: epoch.transactions as i64,
        })
        .collect())
}

#[napi(object)]
pub struct WrittenEpoch {
    pub epoch: i64,
    pub car_path: String,
    pub index_path: String,
    pub car_bytes: i64,
    pub blocks: i64,
    pub transactions: i64,
}
