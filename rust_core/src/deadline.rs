//! When a computation must stop: a point in time, or never. Long loops (scans, rows) call
//! `check` between units of work, so work abandoned by its caller (a request answered 504)
//! really stops.

use crate::error::CoreError;
use std::time::{Duration, Instant};

/// A point in time after which work stops. `Deadline::none()` never expires.
#[derive(Debug, Clone, Default)]
pub struct Deadline {
    at: Option<Instant>,
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
        }
    }

    /// True once the time has passed.
    pub fn expired(&self) -> bool {
        self.at.is_some_and(|at| Instant::now() >= at)
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
    fn expires_by_time() {
        assert!(Deadline::none().check().is_ok());
        assert!(Deadline::after(Duration::from_secs(3600)).check().is_ok());
        assert_eq!(
            Deadline::after(Duration::ZERO).check(),
            Err(CoreError::DeadlineExceeded)
        );
    }
}
