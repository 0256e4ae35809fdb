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

/// The clock of one session: the system clock, or — for pilots and tests with simulated
/// subjects — the system clock sped up around an origin, so a session runs faster
/// while every timestamp (events and samples alike) keeps real-time spacing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionClock {
    origin_us: i64,
    speed: f64,
}

impl Default for SessionClock {
    fn default() -> Self {
        Self::real_time()
    }
}

impl SessionClock {
    /// The system monotonic clock itself.
    pub fn real_time() -> Self {
        Self {
            origin_us: 0,
            speed: 1.0,
        }
    }

    /// A clock that runs `speed` times faster than the system clock from now on.
    pub fn sped_up(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self {
            origin_us: system_time_us(),
            speed,
        }
    }

    /// How many times faster than real time this clock runs.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The time now, µs.
    pub fn now_us(&self) -> i64 {
        let live = system_time_us();
        if self.speed == 1.0 {
            live
        } else {
            self.origin_us + ((live - self.origin_us) as f64 * self.speed) as i64
        }
    }

    /// How long to sleep in real time for `clock_us` of this clock to pass.
    pub fn real_duration(&self, clock_us: i64) -> std::time::Duration {
        std::time::Duration::from_secs_f64((clock_us.max(0) as f64 / self.speed) / 1e6)
    }
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

    #[test]
    fn a_sped_up_clock_runs_faster_from_its_origin() {
        let clock = SessionClock::sped_up(10.0);
        let a = clock.now_us();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = clock.now_us();
        assert!(
            b - a >= 200_000,
            "20 ms real is at least 200 ms sped up, got {}",
            b - a
        );
        assert_eq!(
            clock.real_duration(1_000_000),
            std::time::Duration::from_millis(100)
        );
    }
}
