//! Spike: one CPL 3 long-mode guest runs a counted loop and `out`s to a port; compares its
//! loop rate with the same loop run natively in the same window.
//!
//! `cargo run --release -p validate --example spike [LOOPS]`

use std::time::Instant;

use validate::codegen::Op;
use validate::exits::{Action, classify};
use validate::kvm::{self, vm::GuestVm};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loops: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300_000_000);
    let k = kvm::open()?;
    kvm::pin_current_thread(0)?;
    for round in 0..5 {
        let t = Instant::now();
        kvm::native_loop(loops);
        let native = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let (_guest, mut vcpus) = GuestVm::new(&k, &[vec![Op::Compute { loops }, Op::Done]], 0)?;
        let vm = &mut vcpus[0];
        let created = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut exits = 0;
        loop {
            let e = vm.run()?;
            exits += 1;
            match classify(&e) {
                Action::Done => break,
                Action::Kicked => continue,
                other => return Err(format!("unexpected {other:?} at rip {:x?}", vm.rip()).into()),
            }
        }
        let guest = t.elapsed().as_secs_f64();
        let t = Instant::now();
        drop(vcpus);
        let destroyed = t.elapsed().as_secs_f64();
        println!(
            "round {round}: native {:.1} Mloop/s, guest {:.1} Mloop/s, ratio {:.3}, exits {exits}, create {:.2} ms, destroy {:.2} ms",
            loops as f64 / native / 1e6,
            loops as f64 / guest / 1e6,
            native / guest,
            created * 1e3,
            destroyed * 1e3
        );
    }
    Ok(())
}
