//! One KVM VM whose vCPUs each run a generated guest program (see [`crate::layout`]).

use kvm_bindings::{kvm_segment, kvm_userspace_memory_region};
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use crate::codegen::{self, Op};
use crate::error::Error;
use crate::exits::GuestExit;
use crate::layout;

/// A VM: its file descriptor and its memory. Its vCPUs ([`Vcpu`]) are separate so that
/// each can move to the thread that runs it.
///
/// Guest memory is an anonymous private mapping made by `vm-memory` (`MAP_NORESERVE`):
/// host pages are allocated on first touch, which is what the first-touch cost measures.
/// The mapping must outlive every vCPU run: drop a `GuestVm` only after its vCPUs have been
/// dropped (the replay drops them first).
pub struct GuestVm {
    _vm: VmFd,
    mem: GuestMemoryMmap,
    /// Pages of 4 KiB in the working set.
    pub ws_pages: u64,
}

/// One vCPU of a [`GuestVm`].
pub struct Vcpu {
    fd: VcpuFd,
}

impl GuestVm {
    /// Creates a VM with one vCPU per program (vCPU `i` starts at program `i`), with room
    /// for a working set of `ws_pages` 4 KiB pages from [`layout::WORKING_SET_BASE`].
    pub fn new(
        kvm: &Kvm,
        programs: &[Vec<Op>],
        ws_pages: u64,
    ) -> Result<(GuestVm, Vec<Vcpu>), Error> {
        let mut code = Vec::new();
        let mut entries = Vec::with_capacity(programs.len());
        for p in programs {
            // Each program starts 16-byte aligned.
            code.resize(code.len().next_multiple_of(16), 0xCC);
            entries.push(layout::CODE_ADDR + code.len() as u64);
            code.extend_from_slice(&codegen::assemble(p));
        }
        if code.len() as u64 > layout::CODE_MAX {
            return Err(Error::Guest(format!(
                "guest programs of {} bytes exceed the {} bytes of the code area",
                code.len(),
                layout::CODE_MAX
            )));
        }
        let size = layout::memory_size(ws_pages);
        if size > layout::MAX_MEMORY {
            return Err(Error::Guest(format!(
                "a working set of {ws_pages} pages exceeds the {} MiB a guest can map",
                layout::MAX_MEMORY >> 20
            )));
        }
        let vm = kvm
            .create_vm()
            .map_err(|e| Error::kvm("KVM_CREATE_VM", e))?;
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), size as usize)])
            .map_err(|e| Error::Guest(format!("cannot map {size} bytes of guest memory: {e}")))?;
        let host = mem
            .get_host_address(GuestAddress(0))
            .map_err(|e| Error::Guest(format!("guest memory has no host address: {e}")))?;
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: size,
            userspace_addr: host as u64,
        };
        // SAFETY: `region` describes the mapping owned by `mem`, which lives in the same
        // `GuestVm` as `vm` and is dropped after it (field order), so the guest never sees
        // unmapped host memory.
        unsafe { vm.set_user_memory_region(region) }
            .map_err(|e| Error::kvm("KVM_SET_USER_MEMORY_REGION", e))?;
        for (addr, bytes) in layout::system_tables(size) {
            mem.write_slice(&bytes, GuestAddress(addr))
                .map_err(|e| Error::Guest(format!("cannot write guest tables: {e}")))?;
        }
        mem.write_slice(&code, GuestAddress(layout::CODE_ADDR))
            .map_err(|e| Error::Guest(format!("cannot write the guest program: {e}")))?;

        let mut vcpus = Vec::with_capacity(entries.len());
        for (i, &rip) in entries.iter().enumerate() {
            vcpus.push(Vcpu::new(&vm, i as u64, rip)?);
        }
        Ok((
            GuestVm {
                _vm: vm,
                mem,
                ws_pages,
            },
            vcpus,
        ))
    }

    /// Pre-populates the working set in the host (so first touches cost only the shadow
    /// page-table fill, not a host allocation).
    pub fn prefault(&self) -> Result<(), Error> {
        let size = layout::memory_size(self.ws_pages);
        let zero = [0u8; 1];
        let mut a = layout::WORKING_SET_BASE;
        while a < size {
            self.mem
                .write_slice(&zero, GuestAddress(a))
                .map_err(|e| Error::Guest(format!("cannot prefault guest memory: {e}")))?;
            a += 4096;
        }
        Ok(())
    }
}

impl Vcpu {
    fn new(vm: &VmFd, id: u64, rip: u64) -> Result<Vcpu, Error> {
        let vcpu = vm
            .create_vcpu(id)
            .map_err(|e| Error::kvm("KVM_CREATE_VCPU", e))?;
        let mut sregs = vcpu
            .get_sregs()
            .map_err(|e| Error::kvm("KVM_GET_SREGS", e))?;
        let seg = |selector: u16, code: bool| kvm_segment {
            base: 0,
            limit: 0xffff_ffff,
            selector,
            type_: if code { 0xb } else { 0x3 },
            present: 1,
            dpl: 3,
            db: u8::from(!code),
            s: 1,
            l: u8::from(code),
            g: 1,
            avl: 0,
            unusable: 0,
            padding: 0,
        };
        sregs.cs = seg(layout::CODE_SELECTOR, true);
        let data = seg(layout::DATA_SELECTOR, false);
        sregs.ds = data;
        sregs.es = data;
        sregs.fs = data;
        sregs.gs = data;
        sregs.ss = data;
        sregs.gdt.base = layout::GDT_ADDR;
        sregs.gdt.limit = 5 * 8 - 1;
        sregs.cr0 = layout::CR0;
        sregs.cr3 = layout::PML4_ADDR;
        sregs.cr4 = layout::CR4;
        sregs.efer = layout::EFER;
        vcpu.set_sregs(&sregs)
            .map_err(|e| Error::kvm("KVM_SET_SREGS", e))?;
        let mut regs = vcpu.get_regs().map_err(|e| Error::kvm("KVM_GET_REGS", e))?;
        regs.rip = rip;
        regs.rflags = layout::RFLAGS;
        regs.rsp = layout::WORKING_SET_BASE - 8;
        vcpu.set_regs(&regs)
            .map_err(|e| Error::kvm("KVM_SET_REGS", e))?;
        Ok(Vcpu { fd: vcpu })
    }

    /// Enters the guest until its next exit and classifies it. `Err` only for a failing
    /// `KVM_RUN` other than an interruption (`EINTR`, reported as [`GuestExit::Interrupted`]).
    pub fn run(&mut self) -> Result<GuestExit, Error> {
        let exit = match self.fd.run() {
            Ok(VcpuExit::IoOut(port, data)) => {
                let mut v = [0u8; 4];
                let n = data.len().min(4);
                v[..n].copy_from_slice(&data[..n]);
                GuestExit::IoOut {
                    port,
                    value: u32::from_le_bytes(v),
                }
            }
            Ok(VcpuExit::Intr) => GuestExit::Interrupted,
            Ok(VcpuExit::Hlt) => GuestExit::Halt,
            Ok(VcpuExit::Shutdown) => GuestExit::Shutdown,
            Ok(VcpuExit::FailEntry(reason, _)) => {
                GuestExit::Other(format!("entry failed (hardware reason {reason:#x})"))
            }
            Ok(VcpuExit::InternalError) => GuestExit::Other("KVM internal error".into()),
            Ok(other) => GuestExit::Other(format!("{other:?}")),
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                GuestExit::Interrupted
            }
            Err(e) => return Err(Error::kvm("KVM_RUN", e)),
        };
        Ok(exit)
    }

    /// The address of this vCPU's `kvm_run.immediate_exit` byte, for a kick from a signal
    /// handler (see [`super::Kicker::kick`] and [`super::set_kick_target`]). Valid while `self` lives.
    pub fn immediate_exit_ptr(&mut self) -> *mut u8 {
        &mut self.fd.get_kvm_run().immediate_exit
    }

    /// Sets `kvm_run.immediate_exit`, so that the next `KVM_RUN` returns at once (a kick
    /// that came before the kick target was set).
    pub fn request_exit(&mut self) {
        self.fd.set_kvm_immediate_exit(1);
    }

    /// Clears `kvm_run.immediate_exit` after a kick was taken.
    pub fn clear_immediate_exit(&mut self) {
        self.fd.set_kvm_immediate_exit(0);
    }

    /// Reads guest RIP (for error messages).
    pub fn rip(&self) -> Option<u64> {
        self.fd.get_regs().ok().map(|r| r.rip)
    }
}
