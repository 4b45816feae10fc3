//! The guest program: a VM's recorded behaviour as x86-64 machine code, emitted from Rust.
//!
//! No assembler is involved: each instruction below is a hand-checked encoding with its
//! disassembly in a comment, and the unit tests decode what [`assemble`] emits (with the
//! iced-x86 decoder) and compare it with the expected listing.
//!
//! The code runs in 64-bit mode at CPL 3 with IOPL 3 (see [`crate::layout`]), uses only
//! `rax`, `rcx`, `rdx`, `rsi` and `rdi`, no stack and no memory other than the working set, and
//! talks to the VMM with `out` instructions to the ports of [`ports`]. It never executes
//! `hlt` (which faults at CPL 3): the last instruction is an `out` to [`ports::DONE`]
//! followed by a `jmp $` guard that the VMM never resumes.

/// The I/O ports the guest writes to.
pub mod ports {
    /// The program has finished (`out dx, al`; the value is ignored).
    pub const DONE: u16 = 0x10;
    /// An I/O request to the VMM's device (`out dx, eax`; the value is the request's index
    /// in the program, from 0).
    pub const IO: u16 = 0x11;
    /// A marker (`out dx, eax`) that the VMM only counts and timestamps: used by
    /// calibration to measure the exit round trip and to split phases.
    pub const MARK: u16 = 0x12;
}

/// One step of a guest program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Spin `loops` times round a `dec rcx; jnz` loop (one iteration ≈ one cycle). A count
    /// of 0 emits nothing.
    Compute {
        /// Loop iterations.
        loops: u64,
    },
    /// Spin until the vCPU has *run* for `ticks` TSC ticks: read the TSC in a loop and add
    /// up the increments, leaving out any increment above `gap` ticks (the vCPU was not
    /// running then: kicked out, or the host ran something else). CPU work measured in time
    /// rather than in instructions, so it does not depend on the core's speed of the
    /// moment. A count of 0 emits nothing.
    Spin {
        /// Running time to consume, TSC ticks.
        ticks: u64,
        /// Largest increment counted as running, TSC ticks (at most `u32::MAX`).
        gap: u32,
    },
    /// Write one byte to each of `pages` pages of 4 KiB from guest address `base`, in
    /// order (the first touch of a page maps it).
    Touch {
        /// First guest address (4 KiB aligned).
        base: u64,
        /// Number of pages (0 emits nothing).
        pages: u64,
    },
    /// `out` to [`ports::IO`] with the request index: the vCPU stops until the VMM's device
    /// has served the request.
    Io {
        /// The request's index (its value on the port).
        index: u32,
    },
    /// `out` to [`ports::MARK`] with `value`, `count` times in a loop (a count of 0 emits
    /// nothing).
    Mark {
        /// The value written.
        value: u32,
        /// How many times.
        count: u64,
    },
    /// `out` to [`ports::DONE`], then `jmp $`.
    Done,
}

/// A guest program: the ops in order, ending with [`Op::Done`] (added by [`assemble`] if
/// missing).
pub type Program = Vec<Op>;

/// Emits the machine code of `program`. The code is position-independent (only relative
/// jumps), so it can be copied to any guest address.
///
/// Encodings (64-bit mode; `imm` little-endian):
///
/// | bytes | instruction |
/// |---|---|
/// | `48 B9 imm64` | `mov rcx, imm64` |
/// | `48 BF imm64` | `mov rdi, imm64` |
/// | `BA imm32` | `mov edx, imm32` |
/// | `B8 imm32` | `mov eax, imm32` |
/// | `48 FF C9` | `dec rcx` |
/// | `75 rel8` | `jnz rel8` |
/// | `88 07` | `mov [rdi], al` |
/// | `48 81 C7 00 10 00 00` | `add rdi, 0x1000` |
/// | `EF` | `out dx, eax` |
/// | `EE` | `out dx, al` |
/// | `EB FE` | `jmp $` |
/// | `0F 31` | `rdtsc` |
/// | `48 C1 E2 20` | `shl rdx, 32` |
/// | `48 09 D0` | `or rax, rdx` |
/// | `48 89 C6` / `48 89 C7` | `mov rsi, rax` / `mov rdi, rax` |
/// | `48 29 FE` | `sub rsi, rdi` |
/// | `48 81 FE imm32` | `cmp rsi, imm32` |
/// | `48 29 F1` | `sub rcx, rsi` |
/// | `77 rel8` | `ja rel8` |
pub fn assemble(program: &[Op]) -> Vec<u8> {
    let mut code = Vec::with_capacity(32 * program.len() + 16);
    for op in program {
        match *op {
            Op::Compute { loops } => {
                if loops == 0 {
                    continue;
                }
                mov_rcx(&mut code, loops);
                // 1: dec rcx        48 FF C9
                //    jnz 1b         75 FB      (-5: back over both instructions)
                code.extend_from_slice(&[0x48, 0xFF, 0xC9, 0x75, 0xFB]);
            }
            Op::Spin { ticks, gap } => {
                if ticks == 0 {
                    continue;
                }
                mov_rcx(&mut code, ticks);
                code.extend_from_slice(&[
                    0x0F, 0x31, // rdtsc
                    0x48, 0xC1, 0xE2, 0x20, // shl rdx, 32
                    0x48, 0x09, 0xD0, // or rax, rdx
                    0x48, 0x89, 0xC7, // mov rdi, rax          (last = now)
                    // 1:
                    0x0F, 0x31, // rdtsc
                    0x48, 0xC1, 0xE2, 0x20, // shl rdx, 32
                    0x48, 0x09, 0xD0, // or rax, rdx
                    0x48, 0x89, 0xC6, // mov rsi, rax
                    0x48, 0x29, 0xFE, // sub rsi, rdi          (delta = now − last)
                    0x48, 0x89, 0xC7, // mov rdi, rax          (last = now)
                    0x48, 0x81, 0xFE, // cmp rsi, gap
                ]);
                code.extend_from_slice(&gap.min(i32::MAX as u32).to_le_bytes());
                code.extend_from_slice(&[
                    0x77, 0xE5, // ja 1b      (a gap: not running; −27)
                    0x48, 0x29, 0xF1, // sub rcx, rsi
                    0x77, 0xE0, // ja 1b      (budget left; −32)
                ]);
            }
            Op::Touch { base, pages } => {
                if pages == 0 {
                    continue;
                }
                // mov rdi, base     48 BF imm64
                code.extend_from_slice(&[0x48, 0xBF]);
                code.extend_from_slice(&base.to_le_bytes());
                mov_rcx(&mut code, pages);
                // 1: mov [rdi], al         88 07
                //    add rdi, 0x1000       48 81 C7 00 10 00 00
                //    dec rcx               48 FF C9
                //    jnz 1b                75 F2   (-14 = 2 + 7 + 3 + 2)
                code.extend_from_slice(&[
                    0x88, 0x07, 0x48, 0x81, 0xC7, 0x00, 0x10, 0x00, 0x00, 0x48, 0xFF, 0xC9, 0x75,
                    0xF2,
                ]);
            }
            Op::Io { index } => {
                mov_edx(&mut code, ports::IO);
                mov_eax(&mut code, index);
                code.push(0xEF); // out dx, eax
            }
            Op::Mark { value, count } => {
                if count == 0 {
                    continue;
                }
                mov_edx(&mut code, ports::MARK);
                mov_eax(&mut code, value);
                mov_rcx(&mut code, count);
                // 1: out dx, eax    EF
                //    dec rcx        48 FF C9
                //    jnz 1b         75 FA      (-6)
                code.extend_from_slice(&[0xEF, 0x48, 0xFF, 0xC9, 0x75, 0xFA]);
            }
            Op::Done => {
                done(&mut code);
                return code;
            }
        }
    }
    done(&mut code);
    code
}

fn done(code: &mut Vec<u8>) {
    mov_edx(code, ports::DONE);
    code.push(0xEE); // out dx, al
    code.extend_from_slice(&[0xEB, 0xFE]); // jmp $
}

fn mov_rcx(code: &mut Vec<u8>, v: u64) {
    code.extend_from_slice(&[0x48, 0xB9]);
    code.extend_from_slice(&v.to_le_bytes());
}

fn mov_edx(code: &mut Vec<u8>, port: u16) {
    code.push(0xBA);
    code.extend_from_slice(&u32::from(port).to_le_bytes());
}

fn mov_eax(code: &mut Vec<u8>, v: u32) {
    code.push(0xB8);
    code.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};

    /// Decodes `code` (loaded at `ip`) into Intel-syntax lines.
    fn disassemble(code: &[u8], ip: u64) -> Vec<String> {
        let mut decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
        let mut formatter = IntelFormatter::new();
        formatter.options_mut().set_uppercase_hex(false);
        formatter.options_mut().set_hex_prefix("0x");
        formatter.options_mut().set_hex_suffix("");
        formatter
            .options_mut()
            .set_space_after_operand_separator(true);
        let mut out = Vec::new();
        let mut ins = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut ins);
            assert!(!ins.is_invalid(), "invalid instruction at {:#x}", ins.ip());
            let mut s = String::new();
            formatter.format(&ins, &mut s);
            // Branch targets come zero-padded to 16 digits: print them short.
            let s: Vec<String> = s
                .split(' ')
                .map(
                    |w| match w.strip_prefix("0x").map(|h| u64::from_str_radix(h, 16)) {
                        Some(Ok(v)) => format!("{v:#x}"),
                        _ => w.to_string(),
                    },
                )
                .collect();
            out.push(format!("{:x}: {}", ins.ip(), s.join(" ")));
        }
        out
    }

    #[test]
    fn compute_loop_decodes() {
        let code = assemble(&[Op::Compute { loops: 1_000_000 }]);
        // 10 bytes mov + 3 dec + 2 jnz = 15; the jnz at 0xd jumps back to 0xa.
        assert_eq!(
            disassemble(&code, 0),
            [
                "0: mov rcx, 0xf4240",
                "a: dec rcx",
                "d: jne short 0xa",
                "f: mov edx, 0x10",
                "14: out dx, al",
                "15: jmp short 0x15",
            ]
        );
    }

    #[test]
    fn touch_io_and_mark_decode() {
        let code = assemble(&[
            Op::Touch {
                base: 0x20_0000,
                pages: 3,
            },
            Op::Io { index: 7 },
            Op::Mark { value: 1, count: 2 },
            Op::Done,
            Op::Compute { loops: 5 }, // after Done: not emitted
        ]);
        assert_eq!(
            disassemble(&code, 0x1_0000),
            [
                "10000: mov rdi, 0x200000",
                "1000a: mov rcx, 3",
                // Loop body at 0x10014: 2 + 7 + 3 + 2 bytes; jnz back to 0x10014.
                "10014: mov [rdi], al",
                "10016: add rdi, 0x1000",
                "1001d: dec rcx",
                "10020: jne short 0x10014",
                "10022: mov edx, 0x11",
                "10027: mov eax, 7",
                "1002c: out dx, eax",
                "1002d: mov edx, 0x12",
                "10032: mov eax, 1",
                "10037: mov rcx, 2",
                // out at 0x10041, dec, jnz back to the out.
                "10041: out dx, eax",
                "10042: dec rcx",
                "10045: jne short 0x10041",
                "10047: mov edx, 0x10",
                "1004c: out dx, al",
                "1004d: jmp short 0x1004d",
            ]
        );
    }

    #[test]
    fn zero_counts_emit_nothing_and_done_is_added() {
        let code = assemble(&[
            Op::Compute { loops: 0 },
            Op::Touch {
                base: 0x20_0000,
                pages: 0,
            },
            Op::Mark { value: 0, count: 0 },
        ]);
        assert_eq!(
            disassemble(&code, 0),
            // (iced prints a one-digit branch target in decimal)
            ["0: mov edx, 0x10", "5: out dx, al", "6: jmp short 6"]
        );
    }

    #[test]
    fn spin_decodes() {
        let code = assemble(&[Op::Spin {
            ticks: 1000,
            gap: 0x1234,
        }]);
        assert_eq!(
            disassemble(&code, 0),
            [
                "0: mov rcx, 0x3e8",
                "a: rdtsc",
                "c: shl rdx, 0x20",
                "10: or rax, rdx",
                "13: mov rdi, rax",
                // The loop starts at 0x16; both jumps go back to it.
                "16: rdtsc",
                "18: shl rdx, 0x20",
                "1c: or rax, rdx",
                "1f: mov rsi, rax",
                "22: sub rsi, rdi",
                "25: mov rdi, rax",
                "28: cmp rsi, 0x1234",
                "2f: ja short 0x16",
                "31: sub rcx, rsi",
                "34: ja short 0x16",
                "36: mov edx, 0x10",
                "3b: out dx, al",
                "3c: jmp short 0x3c",
            ]
        );
    }

    #[test]
    fn large_counts_use_all_64_bits() {
        let code = assemble(&[Op::Compute { loops: u64::MAX }]);
        assert_eq!(disassemble(&code, 0)[0], "0: mov rcx, 0xffffffffffffffff");
    }
}
