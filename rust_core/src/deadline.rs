//! When a computation must stop: a point in time, a flag another thread may raise, both or
//! neither. Long loops (scans, rows) call `check` between units of work, so work abandoned
//! by its caller (a request answered 504) really stops.

use crate::error::CoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A deadline and an optional cancellation flag. `Deadline::none()` never expires.
#[derive(Debug, Clone, Default)]
pub struct Deadline {
    at: Option<Instant>,
    cancelled: Option<Arc<AtomicBool>>,
}

impl Deadline {
    /// Never expires.
    pub fn none() -> Self {
        Deadline::default()
    }

    /// Expires `after` from now.
    pub fn after(after: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(after),
            cancelled: None,
        }
    }

    /// The same deadline, also ended when `flag` is set.
    pub fn with_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancelled = Some(flag);
        self
    }

    /// True once the time has passed or the flag is set.
    pub fn expired(&self) -> bool {
        self.cancelled
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
            || self.at.is_some_and(|at| Instant::now() >= at)
    }

    /// `Err(CoreError::DeadlineExceeded)` once `expired`.
    #[inline]
    pub fn check(&self) -> Result<(), CoreError> {
        if self.expired() {
            Err(CoreError::DeadlineExceeded)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_by_time_or_by_flag() {
        assert!(Deadline::none().check().is_ok());
        assert!(Deadline::after(Duration::from_secs(3600)).check().is_ok());
        assert_eq!(
            Deadline::after(Duration::ZERO).check(),
            Err(CoreError::DeadlineExceeded)
        );
        let flag = Arc::new(AtomicBool::new(false));
        let deadline = Deadline::none().with_flag(flag.clone());
        assert!(!deadline.expired());
        flag.store(true, Ordering::Relaxed);
        assert!(deadline.expired());
    }
}
