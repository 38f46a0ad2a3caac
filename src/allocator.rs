//! The addon's allocator: mimalloc, set to hand freed memory back at once.
//!
//! The firehose threads, tokio's blocking pool and batch serialisation all allocate per
//! transaction, and glibc's malloc made them wait on its arena locks: with mimalloc,
//! `bench/throughput.js` went from 0.78–0.89 to 0.86–0.94 of the raw firehose. mimalloc's
//! defaults keep freed pages for a while and commit arenas eagerly, which raised peak RSS
//! under a slow consumer by about 60 MB; purging at once and committing lazily brings it
//! below glibc's (`bench/memory.js`).

use std::ffi::{c_int, c_long};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// `mi_option_e` in mimalloc.h (the same numbers in its v2 and v3).
const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;
const MI_OPTION_ALLOW_LARGE_OS_PAGES: c_int = 6;
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

pub fn return_memory_promptly() {
    // SAFETY: mi_option_set only stores the value; mimalloc reads options when it decides.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        mi_option_set(MI_OPTION_ALLOW_LARGE_OS_PAGES, 0);
    }
}
