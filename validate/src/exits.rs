//! What a vCPU exit means to the VMM, independent of KVM (so it can be tested with made-up
//! exits).

use crate::codegen::ports;

/// A vCPU exit as the VMM sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestExit {
    /// The guest wrote `value` to `port` (`out`).
    IoOut {
        /// Port.
        port: u16,
        /// Value (zero-extended).
        value: u32,
    },
    /// `KVM_RUN` returned because of a signal or `immediate_exit` (a kick).
    Interrupted,
    /// The guest executed `hlt` (which our programs never do).
    Halt,
    /// The guest shut down (a triple fault: an exception with no IDT).
    Shutdown,
    /// Anything else, described.
    Other(String),
}

/// What the executor running a vCPU does after an exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The program finished.
    Done,
    /// The guest asked for I/O request `index`: serve it, then resume.
    Io(u32),
    /// A marker: count/timestamp it and resume.
    Mark(u32),
    /// The run was kicked out: check with the scheduler, then resume (or stop).
    Kicked,
    /// The guest is broken: stop it with this message.
    Fault(String),
}

/// Maps an exit to the VMM's action.
pub fn classify(exit: &GuestExit) -> Action {
    match exit {
        GuestExit::IoOut { port, value } => match *port {
            ports::DONE => Action::Done,
            ports::IO => Action::Io(*value),
            ports::MARK => Action::Mark(*value),
            p => Action::Fault(format!("guest wrote {value:#x} to unknown port {p:#x}")),
        },
        GuestExit::Interrupted => Action::Kicked,
        GuestExit::Halt => Action::Fault("guest executed hlt (which faults at CPL 3)".into()),
        GuestExit::Shutdown => {
            Action::Fault("guest shut down (an exception with no IDT: a guest fault)".into())
        }
        GuestExit::Other(what) => Action::Fault(format!("unexpected vCPU exit: {what}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_map_to_actions() {
        let out = |port, value| GuestExit::IoOut { port, value };
        assert_eq!(classify(&out(ports::DONE, 0)), Action::Done);
        assert_eq!(classify(&out(ports::IO, 3)), Action::Io(3));
        assert_eq!(classify(&out(ports::MARK, 9)), Action::Mark(9));
        assert_eq!(
            classify(&out(0x3f8, 0x41)),
            Action::Fault("guest wrote 0x41 to unknown port 0x3f8".into())
        );
    }

    #[test]
    fn kicks_and_faults() {
        assert_eq!(classify(&GuestExit::Interrupted), Action::Kicked);
        assert!(matches!(classify(&GuestExit::Shutdown), Action::Fault(m) if m.contains("fault")));
        assert!(matches!(classify(&GuestExit::Halt), Action::Fault(m) if m.contains("hlt")));
        assert_eq!(
            classify(&GuestExit::Other("Mmio".into())),
            Action::Fault("unexpected vCPU exit: Mmio".into())
        );
    }
}
