//! The one clock every timestamp in scanscribe uses: microseconds on the system
//! monotonic clock.
//!
//! On Linux this is `CLOCK_MONOTONIC`, the clock behind the Tobii Pro SDK's
//! `system_time_stamp`, so tracker samples, audio and presentation events line up
//! without conversion. Elsewhere it is a monotonic clock anchored at first use.

/// Microseconds on the system monotonic clock.
#[cfg(target_os = "linux")]
pub fn system_time_us() -> i64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}

/// Microseconds on a monotonic clock anchored at first use.
#[cfg(not(target_os = "linux"))]
pub fn system_time_us() -> i64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    let anchor = ANCHOR.get_or_init(Instant::now);
    i64::try_from(anchor.elapsed().as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_in_microseconds() {
        let a = system_time_us();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = system_time_us();
        assert!(
            b - a >= 20_000,
            "20 ms must read as at least 20000 us, got {}",
            b - a
        );
        assert!(b - a < 2_000_000);
    }
}
