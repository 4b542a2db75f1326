//! Work spread over the cores.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` over `items` on up to one thread per core (this one included), the
/// results in the items' order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut made: Vec<(usize, R)> = std::thread::scope(|scope| {
        let work = || {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else {
                    break made;
                };
                made.push((i, f(item)));
            }
        };
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut made = work();
        for worker in workers {
            match worker.join() {
                Ok(more) => made.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        made
    });
    made.sort_by_key(|(i, _)| *i);
    made.into_iter().map(|(_, r)| r).collect()
}
