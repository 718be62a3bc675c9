//! Process-wide tuning of the C heap, which both burn-flex (through Rust's
//! system allocator) and libtorch allocate their tensors from.
//!
//! A training step allocates and frees the same multi-megabyte tensors over
//! and over. glibc's defaults hand each freed block back to the kernel
//! (`munmap`, or trimming the heap top), so the next allocation page-faults
//! the memory in again and the kernel zeroes it: measured on the 2-core CI
//! machine with the tch build, 2.4 s of the 17 s CPU time of three small NOT
//! steps went to the kernel, and keeping the memory made the steps 1.17x
//! faster (`bench/compare.sh`). So freed memory stays in the process, up to
//! the thresholds below; peak memory rose 8% in that measurement.

/// Blocks at least this large still get their own mapping (and go back to
/// the kernel when freed): nothing a NOT training allocates is that big.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 30;

/// Free memory at the heap top is returned to the kernel beyond this much.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Keeps freed memory in the process; call once, before any tensor exists.
/// Returns whether the allocator took both settings (glibc may reject a
/// value, which leaves its defaults in place: slower, not wrong). Elsewhere
/// than glibc this does nothing and returns false.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters, and nrun calls this
    // before it starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        assert!(super::keep_freed_memory());
    }
}
