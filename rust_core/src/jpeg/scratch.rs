//! Buffers kept from one decode to the next, shared by every thread of the process.
//!
//! A decode of a 5000 x 3330 photo needs about 10 MB of coefficient planes, sample rows
//! and output. Taken fresh from the allocator, those pages were faulted in and handed back
//! on every decode, which cost about a fifth of the decode (docs/BENCHMARKS.md); so the
//! process keeps what finished decodes used, up to a cap per kind of buffer. The caps are
//! for the whole process, not per thread: the service decodes in its request threads (64
//! per worker), and a cap per thread would let a worker keep 64 times as much.

use super::blocks::{FullBlock, ReducedBlock};
use super::malformed;
use crate::error::CoreError;
use std::sync::Mutex;

/// Spare buffers of one element type, and how many bytes of them the process may keep.
pub(super) struct Pool<T> {
    spare: Mutex<Vec<Vec<T>>>,
    keep_bytes: usize,
}

/// The kept AC terms of chroma scaled 2x2 in progressive files: up to the two planes of
/// two 36-megapixel 4:2:0 photos at once (281 k blocks of 64 bytes each).
pub(super) static REDUCED_BLOCKS: Pool<ReducedBlock> = Pool::new(36 << 20);
/// Whole blocks of progressive files decoded at 1/4 or more: up to two 6-megapixel 4:2:0
/// photos (141 k blocks of 144 bytes each).
pub(super) static FULL_BLOCKS: Pool<FullBlock> = Pool::new(40 << 20);
/// DC planes.
pub(super) static COEFFICIENTS: Pool<i16> = Pool::new(4 << 20);
/// Samples and output pixels.
pub(super) static BYTES: Pool<u8> = Pool::new(8 << 20);

impl<T: Clone + Default> Pool<T> {
    const fn new(keep_bytes: usize) -> Self {
        Pool {
            spare: Mutex::new(Vec::new()),
            keep_bytes,
        }
    }

    /// `len` default values, in the smallest spare buffer that holds them when there is
    /// one; an error rather than an abort when memory runs out.
    pub(super) fn take(&self, len: usize) -> Result<Vec<T>, CoreError> {
        let mut values = if len == 0 {
            Vec::new()
        } else {
            let mut spare = self.lock();
            let fit = (0..spare.len())
                .filter(|&i| spare[i].capacity() >= len)
                .min_by_key(|&i| spare[i].capacity())
                .or_else(|| (0..spare.len()).max_by_key(|&i| spare[i].capacity()));
            fit.map(|i| spare.swap_remove(i)).unwrap_or_default()
        };
        values.clear();
        values
            .try_reserve_exact(len)
            .map_err(|_| malformed("out of memory"))?;
        values.resize(len, T::default());
        Ok(values)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<T>>> {
        // A panic while the lock was held leaves only spare buffers behind: still usable.
        self.spare
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `values` for the next `take`, within the pool's cap.
    pub(super) fn give(&self, values: Vec<T>) {
        let bytes = |values: &Vec<T>| values.capacity() * std::mem::size_of::<T>();
        if values.capacity() == 0 {
            return;
        }
        let mut spare = self.lock();
        if spare.iter().map(bytes).sum::<usize>() + bytes(&values) <= self.keep_bytes {
            spare.push(values);
        }
    }
}

/// `len` default values from `pool`.
pub(super) fn take<T: Clone + Default>(pool: &Pool<T>, len: usize) -> Result<Vec<T>, CoreError> {
    pool.take(len)
}

/// Hands `values` back to `pool`.
pub(super) fn give<T: Clone + Default>(pool: &Pool<T>, values: Vec<T>) {
    pool.give(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_smallest_spare_that_fits_and_keeps_within_the_cap() {
        let pool: Pool<u8> = Pool::new(100);
        pool.give(Vec::with_capacity(60));
        pool.give(Vec::with_capacity(30));
        pool.give(Vec::with_capacity(20)); // over the cap: 60 + 30 + 20 > 100
        let taken = pool.take(25).unwrap();
        assert_eq!((taken.len(), taken.capacity()), (25, 30));
        assert!(taken.iter().all(|&b| b == 0));
        let taken = pool.take(61).unwrap(); // nothing fits: the largest, grown
        assert_eq!(taken.len(), 61);
        assert!(pool.lock().is_empty());
    }
}
