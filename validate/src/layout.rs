//! Guest memory layout and the long-mode CPL 3 machine state.
//!
//! The paravirtualised KVM of the machines this was built on (PVM) runs only 64-bit code at
//! user privilege at native speed, so the guest starts directly in long mode at CPL 3:
//! 4-level page tables with the U bit at every level, flat 64-bit code and data segments
//! with DPL 3, RFLAGS.IOPL = 3 so that `out` works. Guest virtual = guest physical
//! (identity map with 2 MiB pages).
//!
//! ```text
//! 0x0000_0000  GDT (null, null, null, code64 DPL3 = 0x18, data DPL3 = 0x20)
//! 0x0000_1000  PML4      (entry 0 → PDPT)
//! 0x0000_2000  PDPT      (entry 0 → PD)
//! 0x0000_3000  PD        (2 MiB pages, as many as the memory holds, up to 1 GiB)
//! 0x0001_0000  code      (up to CODE_MAX bytes)
//! 0x0020_0000  working set (WORKING_SET_BASE …)
//! ```

/// Guest address of the GDT.
pub const GDT_ADDR: u64 = 0x0;
/// Guest address of the PML4.
pub const PML4_ADDR: u64 = 0x1000;
/// Guest address of the PDPT.
pub const PDPT_ADDR: u64 = 0x2000;
/// Guest address of the page directory.
pub const PD_ADDR: u64 = 0x3000;
/// Guest address of the program.
pub const CODE_ADDR: u64 = 0x1_0000;
/// The largest program, in bytes.
pub const CODE_MAX: u64 = 0x20_0000 - CODE_ADDR;
/// First guest address of the working set (after the first 2 MiB page).
pub const WORKING_SET_BASE: u64 = 0x20_0000;
/// Size of one large page.
pub const LARGE_PAGE: u64 = 0x20_0000;
/// The most guest memory the identity map covers (one page directory).
pub const MAX_MEMORY: u64 = 512 * LARGE_PAGE;

/// Code segment selector (GDT index 3, RPL 3).
pub const CODE_SELECTOR: u16 = 0x18 | 3;
/// Data segment selector (GDT index 4, RPL 3).
pub const DATA_SELECTOR: u16 = 0x20 | 3;
/// RFLAGS at start: reserved bit 1, IOPL = 3.
pub const RFLAGS: u64 = 0x2 | (3 << 12);

/// CR0: PE | MP | ET | NE | WP | PG.
pub const CR0: u64 = 1 | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 16) | (1 << 31);
/// CR4: PAE.
pub const CR4: u64 = 1 << 5;
/// EFER: LME | LMA.
pub const EFER: u64 = (1 << 8) | (1 << 10);

const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const LARGE: u64 = 1 << 7;

/// The guest memory size needed for a working set of `ws_pages` 4 KiB pages: the first
/// 2 MiB page (tables and code) plus the working set, rounded up to 2 MiB.
pub fn memory_size(ws_pages: u64) -> u64 {
    let ws = ws_pages.saturating_mul(4096);
    WORKING_SET_BASE + ws.div_ceil(LARGE_PAGE) * LARGE_PAGE
}

/// The GDT and the three page-table pages for `mem_size` bytes of guest memory, as
/// `(guest address, bytes)` pieces to copy into guest memory.
pub fn system_tables(mem_size: u64) -> Vec<(u64, Vec<u8>)> {
    let mut gdt = Vec::with_capacity(5 * 8);
    gdt.extend_from_slice(&[0u8; 24]);
    gdt.extend_from_slice(&gdt_entry(0xa0fb)); // code: P, DPL3, S, type 0xb; L = 1
    gdt.extend_from_slice(&gdt_entry(0xc0f3)); // data: P, DPL3, S, type 0x3; D/B = 1, G = 1
    let table = |entries: &[u64]| {
        let mut page = vec![0u8; 4096];
        for (i, e) in entries.iter().enumerate() {
            page[i * 8..i * 8 + 8].copy_from_slice(&e.to_le_bytes());
        }
        page
    };
    let flags = PRESENT | WRITABLE | USER;
    let pages = (mem_size.min(MAX_MEMORY) / LARGE_PAGE) as usize;
    let pd: Vec<u64> = (0..pages as u64)
        .map(|i| (i * LARGE_PAGE) | flags | LARGE)
        .collect();
    vec![
        (GDT_ADDR, gdt),
        (PML4_ADDR, table(&[PDPT_ADDR | flags])),
        (PDPT_ADDR, table(&[PD_ADDR | flags])),
        (PD_ADDR, table(&pd)),
    ]
}

/// A flat GDT descriptor (base 0, limit 0xfffff). `af` packs the flags nibble (G, D/B, L,
/// AVL) in bits 12..16 and the access byte in bits 0..8, as they sit in bits 40..56 of the
/// descriptor (bits 8..12 of `af`, the limit's top nibble, are ignored).
fn gdt_entry(af: u16) -> [u8; 8] {
    let limit: u64 = 0xf_ffff;
    let d: u64 = (limit & 0xffff) | (((limit >> 16) & 0xf) << 48) | (u64::from(af & 0xf0ff) << 40);
    d.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_rounded_to_large_pages() {
        assert_eq!(memory_size(0), 0x20_0000);
        assert_eq!(memory_size(1), 0x40_0000);
        // 512 pages = exactly 2 MiB.
        assert_eq!(memory_size(512), 0x40_0000);
        assert_eq!(memory_size(513), 0x60_0000);
    }

    #[test]
    fn descriptors_are_the_textbook_ones() {
        // Flat 64-bit DPL3 code: 0x00af_fb00_0000_ffff; DPL3 data: 0x00cf_f300_0000_ffff.
        assert_eq!(u64::from_le_bytes(gdt_entry(0xa0fb)), 0x00af_fb00_0000_ffff);
        assert_eq!(u64::from_le_bytes(gdt_entry(0xc0f3)), 0x00cf_f300_0000_ffff);
    }

    #[test]
    fn page_tables_have_the_user_bit_everywhere() {
        let t = system_tables(memory_size(600));
        let entry = |page: &Vec<u8>, i: usize| {
            u64::from_le_bytes(page[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
        };
        assert_eq!(entry(&t[1].1, 0), PDPT_ADDR | 7);
        assert_eq!(entry(&t[2].1, 0), PD_ADDR | 7);
        // 600 pages → 6 MiB → three 2 MiB pages.
        assert_eq!(entry(&t[3].1, 0), 0x87);
        assert_eq!(entry(&t[3].1, 2), 0x40_0000 | 0x87);
        assert_eq!(entry(&t[3].1, 3), 0);
    }
}
