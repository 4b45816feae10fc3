//! Reading ahead: the workload is drawn (or a trace parsed) on a second thread while the
//! engine simulates, in batches handed over through bounded channels. The stream is the
//! same, in the same order, as iterating the workload directly, so results do not change;
//! memory stays bounded (a few batches in flight) and batches are reused, not reallocated.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sim::VmRequest;

/// VMs per batch.
const BATCH: usize = 4096;
/// Full batches waiting for the engine.
const IN_FLIGHT: usize = 2;

/// The engine's end of a read-ahead stream (see [`read_ahead`]).
pub struct ReadAhead {
    full: Receiver<VecDeque<VmRequest>>,
    empty: SyncSender<VecDeque<VmRequest>>,
    current: VecDeque<VmRequest>,
}

impl Iterator for ReadAhead {
    type Item = VmRequest;

    #[inline(always)]
    fn next(&mut self) -> Option<VmRequest> {
        if let Some(vm) = self.current.pop_front() {
            return Some(vm);
        }
        self.refill()
    }
}

impl ReadAhead {
    /// The next batch (once per batch: out of the engine's hot loop).
    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> Option<VmRequest> {
        let next = self.full.recv().ok()?;
        let used = std::mem::replace(&mut self.current, next);
        // The producer may have stopped; then the batch is simply dropped.
        let _ = self.empty.try_send(used);
        self.current.pop_front()
    }
}

/// Runs `consume` on `source` read ahead by a second thread. `source` is left where the
/// stream stopped (at its end unless `consume` stopped early), so that a trace's error or
/// report can be taken from it afterwards.
pub fn read_ahead<I, R>(source: &mut I, consume: impl FnOnce(&mut ReadAhead) -> R) -> R
where
    I: Iterator<Item = VmRequest> + Send,
{
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<VecDeque<VmRequest>>(IN_FLIGHT);
        let (empty_tx, empty_rx) = sync_channel::<VecDeque<VmRequest>>(IN_FLIGHT + 2);
        scope.spawn(move || {
            loop {
                let mut batch = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| VecDeque::with_capacity(BATCH));
                batch.clear();
                batch.extend(source.by_ref().take(BATCH));
                let last = batch.len() < BATCH;
                // An empty batch, or an engine that hung up (it stopped on an error): done.
                if batch.is_empty() || full_tx.send(batch).is_err() || last {
                    break;
                }
            }
        });
        let mut stream = ReadAhead {
            full: full_rx,
            empty: empty_tx,
            current: VecDeque::new(),
        };
        let r = consume(&mut stream);
        // Hang up before the scope joins the producer, so a blocked send returns.
        drop(stream);
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    fn vm(id: u64) -> VmRequest {
        VmRequest {
            id,
            arrival: SimTime::from_secs(id),
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            demand: SimTime::from_secs(1),
            estimate: SimTime::from_secs(1),
            tenant: None,
            profile: Default::default(),
        }
    }

    /// The same stream in the same order, across batch boundaries (BATCH·2 + 7 items).
    #[test]
    fn read_ahead_keeps_the_stream() {
        let n = (BATCH * 2 + 7) as u64;
        let mut source = (0..n).map(vm);
        let ids: Vec<u64> = read_ahead(&mut source, |s| s.map(|v| v.id).collect());
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        assert!(source.next().is_none());
    }

    /// A consumer that stops early does not hang the producer.
    #[test]
    fn early_stop_does_not_hang() {
        let mut source = (0..u64::MAX).map(vm);
        let first: Vec<u64> = read_ahead(&mut source, |s| s.take(3).map(|v| v.id).collect());
        assert_eq!(first, vec![0, 1, 2]);
    }
}
