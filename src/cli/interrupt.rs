//! Ending a headless run early but cleanly. SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal
//! closed) set a flag that the training loop reads between steps; a second one ends the
//! process at once. A reader that goes away (`relu-lab run ... | head`) ends the run the same
//! way. What was computed so far is then written, temporary files are removed, and the exit
//! code says why the run ended early.
//!
//! SIGXFSZ (a file outgrew `ulimit -f`) would kill the process before it could keep anything;
//! it is caught and ignored instead, so the write fails with "File too large" and is handled
//! like any other write error: the run stops, every other output is written, exit code 1.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a run ended before its last step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP: the terminal was closed.
    Hangup,
    /// Standard output was closed by its reader.
    BrokenPipe,
}

impl Interruption {
    /// The shell's convention: 128 plus the signal's number.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Self::Hangup => 129,
            Self::Interrupt => 130,
            Self::BrokenPipe => 141,
            Self::Terminate => 143,
        }
    }

    /// What happened, in words.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Interrupt => "interrupted (Ctrl-C)",
            Self::Terminate => "terminated (SIGTERM)",
            Self::Hangup => "the terminal was closed (SIGHUP)",
            Self::BrokenPipe => "the reader of standard output went away (broken pipe)",
        }
    }
}

/// The signal received, as an [`Interruption`] code (0: none).
fn flag() -> &'static Arc<AtomicUsize> {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

const INTERRUPT: usize = 1;
const TERMINATE: usize = 2;
const HANGUP: usize = 3;

/// Listens for SIGINT, SIGTERM and SIGHUP from now on, and turns SIGXFSZ into a write error
/// (once per process; later calls do nothing).
pub(crate) fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
            use signal_hook::flag;
            let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            for (signal, code) in [(SIGINT, INTERRUPT), (SIGTERM, TERMINATE), (SIGHUP, HANGUP)] {
                // Registered before the flag that arms it: the first signal arms, the second
                // ends the process at once.
                let _ = flag::register_conditional_shutdown(signal, 1, Arc::clone(&armed));
                let _ = flag::register(signal, Arc::clone(&armed));
                let _ = flag::register_usize(signal, Arc::clone(flag()), code);
            }
            // Any handler replaces the default action (end the process); the write that went
            // past the limit then fails with EFBIG, which the writer reports.
            let _ = flag::register(SIGXFSZ, Arc::new(std::sync::atomic::AtomicBool::new(false)));
        }
    });
}

/// The signal received since [`install`], if any.
pub(crate) fn received() -> Option<Interruption> {
    match flag().load(Ordering::Relaxed) {
        INTERRUPT => Some(Interruption::Interrupt),
        TERMINATE => Some(Interruption::Terminate),
        HANGUP => Some(Interruption::Hangup),
        _ => None,
    }
}
