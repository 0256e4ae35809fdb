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
    /// The system time at which the sped-up clock started.
    origin_us: i64,
    /// What the clock read at `origin_us` (the origin itself, unless moved forward).
    start_us: i64,
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
            start_us: 0,
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
        let origin_us = system_time_us();
        Self {
            origin_us,
            start_us: origin_us,
            speed,
        }
    }

    /// This clock, moved forward when needed so that it reads later than `floor_us`
    /// now: a sped-up session that is resumed goes on after its last time instead of
    /// restarting below it. The real-time clock is the tracker's and is never moved.
    pub fn not_before(self, floor_us: i64) -> Self {
        let now = self.now_us();
        if self.speed == 1.0 || now > floor_us {
            return self;
        }
        Self {
            start_us: self
                .start_us
                .saturating_add(floor_us.saturating_sub(now))
                .saturating_add(1),
            ..self
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
            let elapsed_us = (live.saturating_sub(self.origin_us) as f64 * self.speed) as i64;
            self.start_us.saturating_add(elapsed_us)
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

    #[test]
    fn a_resumed_sped_up_clock_goes_on_after_the_floor_and_keeps_its_speed() {
        let clock = SessionClock::sped_up(10.0);
        let floor = clock.now_us() + 5_000_000;
        let resumed = clock.not_before(floor);
        let a = resumed.now_us();
        assert!(a > floor && a < floor + 1_000_000, "{a} vs {floor}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(resumed.now_us() - a >= 200_000);
        // Already later than the floor: unchanged.
        assert_eq!(clock.not_before(0), clock);
        // The tracker's real-time clock is never moved.
        let real = SessionClock::real_time();
        assert_eq!(real.not_before(i64::MAX), real);
    }
}
