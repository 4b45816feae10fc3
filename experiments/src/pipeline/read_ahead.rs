//! Reading ahead: the workload is drawn (or a trace parsed) on a second thread while the
//! engine simulates, in batches handed over through bounded channels. The stream is the
//! same, in the same order, as iterating the workload directly, so results do not change;
//! memory stays bounded (a few batches in flight) and batches are reused, not reallocated.
//!
//! [`read_ahead_write_behind`] also replays the engine's observer calls on that same helper
//! thread: on a two-core machine, the engine's thread and one helper share the cores
//! without a third thread taking turns with them.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::write_behind::{Batch, BatchSink, WriteBehind};
use sim::{Observer, VmRequest};

/// VMs per batch.
const BATCH: usize = 4096;
/// Full batches waiting for the engine.
const IN_FLIGHT: usize = 2;
/// Observer batches the engine may hand over before it waits for the helper.
const RECORDS_IN_FLIGHT: usize = 2;

/// Where the engine gives back a request batch it has used up.
enum GiveBack {
    /// To the producer of [`read_ahead`] (dropped if it has enough).
    Producer(SyncSender<Vec<VmRequest>>),
    /// To the helper of [`read_ahead_write_behind`], which refills it.
    Helper(SyncSender<ToHelper>),
}

/// What the engine's thread sends the helper of [`read_ahead_write_behind`].
enum ToHelper {
    /// A used-up request batch, to refill.
    Requests(Vec<VmRequest>),
    /// Observer calls to replay.
    Calls(Batch),
}

/// The engine's end of a read-ahead stream (see [`read_ahead`]).
pub struct ReadAhead {
    full: Receiver<Vec<VmRequest>>,
    give_back: GiveBack,
    current: Vec<VmRequest>,
    /// Index of the next request in `current`.
    next: usize,
}

impl Iterator for ReadAhead {
    type Item = VmRequest;

    #[inline(always)]
    fn next(&mut self) -> Option<VmRequest> {
        let vm = sim::VmSource::peek(self)?.clone();
        self.next += 1;
        Some(vm)
    }
}

impl ReadAhead {
    /// Moves to the next batch (once per batch: out of the engine's hot loop); `false` at
    /// the end of the stream.
    #[cold]
    #[inline(never)]
    fn next_batch(&mut self) -> bool {
        // (Producers send no empty batch; an empty one would simply be skipped.)
        while self.next >= self.current.len() {
            let Ok(next) = self.full.recv() else {
                return false;
            };
            let used = std::mem::replace(&mut self.current, next);
            self.next = 0;
            match &self.give_back {
                // The producer may have stopped; then the batch is simply dropped.
                GiveBack::Producer(tx) => {
                    let _ = tx.try_send(used);
                }
                // The helper refills only the batches it gets back, so this one must reach
                // it (the helper never waits on the engine, so this send cannot deadlock).
                // (The stream's first `current` is an unallocated placeholder, not one of
                // them.)
                GiveBack::Helper(tx) => {
                    if used.capacity() > 0 {
                        let _ = tx.send(ToHelper::Requests(used));
                    }
                }
            }
        }
        true
    }
}

/// The engine reads requests in place from the batch (see [`sim::simulate_source`]).
impl sim::VmSource for ReadAhead {
    #[inline(always)]
    fn peek(&mut self) -> Option<&VmRequest> {
        if self.next >= self.current.len() && !self.next_batch() {
            return None;
        }
        self.current.get(self.next)
    }
    #[inline(always)]
    fn advance(&mut self) {
        self.next += 1;
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
        let (full_tx, full_rx) = sync_channel::<Vec<VmRequest>>(IN_FLIGHT);
        let (empty_tx, empty_rx) = sync_channel::<Vec<VmRequest>>(IN_FLIGHT + 2);
        scope.spawn(move || {
            loop {
                let mut batch = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let more = fill(source, &mut batch);
                // An empty batch, or an engine that hung up (it stopped on an error): done.
                if batch.is_empty() || full_tx.send(batch).is_err() || !more {
                    break;
                }
            }
        });
        let mut stream = ReadAhead {
            full: full_rx,
            give_back: GiveBack::Producer(empty_tx),
            current: Vec::new(),
            next: 0,
        };
        let r = consume(&mut stream);
        // Hang up before the scope joins the producer, so a blocked send returns.
        drop(stream);
        r
    })
}

/// Refills `batch` from `source`; `false` once `source` has run dry.
fn fill<I: Iterator<Item = VmRequest>>(source: &mut I, batch: &mut Vec<VmRequest>) -> bool {
    batch.clear();
    batch.extend(source.by_ref().take(BATCH));
    batch.len() == BATCH
}

/// The [`BatchSink`] of [`read_ahead_write_behind`]: observer batches go to the helper.
struct HelperSink {
    to_helper: SyncSender<ToHelper>,
    recycled: Receiver<Batch>,
}

impl BatchSink for HelperSink {
    fn send(&mut self, batch: Batch) {
        // The helper only hangs up after the engine's ends are dropped.
        let _ = self.to_helper.send(ToHelper::Calls(batch));
    }
    fn recycled(&mut self) -> Option<Batch> {
        self.recycled.try_recv().ok()
    }
}

/// [`read_ahead`] and [`write_behind`](super::write_behind::write_behind) with one helper thread for both:
/// it draws the workload ahead of the engine and replays the engine's calls on `observer`,
/// in order. Results are those of iterating `source` and observing directly; all calls
/// have reached `observer` when this returns, and `source` is left where the stream
/// stopped.
///
/// The helper refills a request batch only when the engine gives one back, and there are
/// never more request batches than its channel holds, so it never waits on the engine
/// except for its next message; the engine waits for the helper when it needs requests or
/// when too many observer batches are pending (which bounds memory).
pub fn read_ahead_write_behind<I, O, R>(
    source: &mut I,
    observer: &mut O,
    consume: impl FnOnce(&mut ReadAhead, &mut WriteBehind) -> R,
) -> R
where
    I: Iterator<Item = VmRequest> + Send,
    O: Observer + Send,
{
    // Request batches in existence: one with the engine, the rest in the channel.
    const REQUEST_BATCHES: usize = IN_FLIGHT + 1;
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Vec<VmRequest>>(REQUEST_BATCHES);
        let (to_helper_tx, to_helper_rx) =
            sync_channel::<ToHelper>(REQUEST_BATCHES + RECORDS_IN_FLIGHT);
        let (recycled_tx, recycled_rx) = sync_channel::<Batch>(RECORDS_IN_FLIGHT + 2);
        let mut front = WriteBehind::new(
            observer,
            Box::new(HelperSink {
                to_helper: to_helper_tx.clone(),
                recycled: recycled_rx,
            }),
        );
        scope.spawn(move || {
            // `None` once the source has run dry (or the engine hung up).
            let mut requests = Some(full_tx);
            let mut refill = |requests: &mut Option<SyncSender<_>>, mut batch| {
                if let Some(tx) = requests.as_ref() {
                    let more = fill(source, &mut batch);
                    // (Never blocks: the channel holds every request batch there is.)
                    if batch.is_empty() || tx.send(batch).is_err() || !more {
                        *requests = None;
                    }
                }
            };
            for _ in 0..REQUEST_BATCHES {
                refill(&mut requests, Vec::with_capacity(BATCH));
            }
            // Ends when the engine's ends are dropped and every message is handled.
            for message in to_helper_rx {
                match message {
                    ToHelper::Requests(batch) => refill(&mut requests, batch),
                    ToHelper::Calls(mut batch) => {
                        batch.replay(observer);
                        let _ = recycled_tx.try_send(batch);
                    }
                }
            }
        });
        let mut stream = ReadAhead {
            full: full_rx,
            give_back: GiveBack::Helper(to_helper_tx),
            current: Vec::new(),
            next: 0,
        };
        let r = consume(&mut stream, &mut front);
        // Hand over the last observer batch, then hang up: the helper ends after it.
        drop(front);
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

    /// One helper for both ends: the engine sees the same stream and the observer gets the
    /// same calls, in the same order, as simulating directly (requests across three request
    /// batches, records and slices across several observer batches; one VM is rejected).
    #[test]
    fn one_helper_gives_the_direct_results() {
        use sim::observer::Collect;
        let n = (BATCH * 2 + 7) as u64;
        let requests = |n: u64| {
            (0..n).map(|id| VmRequest {
                arrival: SimTime::from_millis(id * 70),
                vcpus: if id == 5 { 64 } else { 1 + (id % 3) as u32 },
                demand: SimTime::from_millis(500 + (id * 7919) % 1000),
                ..vm(id)
            })
        };
        let mut cfg = sim::SimConfig::single_host(8, 0);
        cfg.cpu.policy = "rr".into();
        cfg.cpu.quantum = SimTime::from_millis(100);
        let mut direct = Collect::default();
        let a = sim::simulate(&cfg, requests(n), &mut direct).unwrap();
        let mut behind = Collect::default();
        let mut source = requests(n);
        // (Read in place: the engine's `VmSource` path.)
        let b = read_ahead_write_behind(&mut source, &mut behind, |vms, o| {
            sim::simulate_source(&cfg, vms, o)
        })
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(direct.rejected, vec![5]);
        assert!(
            direct.slices.len() > 3 * 2048,
            "{} slices",
            direct.slices.len()
        );
        assert_eq!(direct.vms, behind.vms);
        assert_eq!(direct.slices, behind.slices);
        assert_eq!(direct.rejected, behind.rejected);
        assert!(source.next().is_none());
    }

    /// Read in place, an out-of-order request is reported as from an iterator, also when it
    /// is the first of a batch.
    #[test]
    fn in_place_reading_reports_out_of_order_requests() {
        for bad in [5, BATCH as u64] {
            let requests = || {
                (0..BATCH as u64 * 2).map(move |id| VmRequest {
                    arrival: SimTime::from_secs(if id == bad { 0 } else { id }),
                    ..vm(id)
                })
            };
            let cfg = sim::SimConfig::single_host(4, 0);
            let direct = sim::simulate(&cfg, requests(), &mut sim::NullObserver).unwrap_err();
            let mut source = requests();
            let in_place = read_ahead(&mut source, |s| {
                sim::simulate_source(&cfg, s, &mut sim::NullObserver)
            })
            .unwrap_err();
            assert_eq!(direct.to_string(), in_place.to_string());
            assert!(direct.to_string().contains(&format!("{bad}")), "{direct}");
        }
    }

    /// A stream that ends exactly at a batch boundary, and one that is empty.
    #[test]
    fn one_helper_ends_at_batch_boundaries() {
        for n in [0, BATCH as u64, (BATCH * 3) as u64] {
            let mut source = (0..n).map(vm);
            let mut obs = sim::NullObserver;
            let ids: Vec<u64> =
                read_ahead_write_behind(&mut source, &mut obs, |s, _| s.map(|v| v.id).collect());
            assert_eq!(ids, (0..n).collect::<Vec<_>>());
        }
    }

    /// An engine that stops early (an error, say) does not hang the helper, and the
    /// observer calls it made still arrive.
    #[test]
    fn one_helper_survives_an_early_stop() {
        use sim::Observer;
        let mut source = (0..u64::MAX).map(vm);
        let mut seen = sim::observer::Collect::default();
        let first: Vec<u64> = read_ahead_write_behind(&mut source, &mut seen, |s, o| {
            o.on_vm_rejected(7, "test");
            s.take(3).map(|v| v.id).collect()
        });
        assert_eq!(first, vec![0, 1, 2]);
        assert_eq!(seen.rejected, vec![7]);
    }
}
