//! Named threads where there are threads, and a clear refusal in a browser tab, where there
//! are none (the browser build's lints ban the thread types everywhere else).

use std::io;
#[cfg(feature = "gui")]
use std::thread::JoinHandle;
use std::thread::{Scope, ScopedJoinHandle};

/// Starts `work` on a scoped thread called `name`; in a browser tab, refuses (callers do the
/// work on their own thread instead, or say so).
pub(crate) fn spawn_scoped<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    name: String,
    work: impl FnOnce() -> T + Send + 'scope,
) -> io::Result<ScopedJoinHandle<'scope, T>> {
    #[cfg(not(target_arch = "wasm32"))]
    return std::thread::Builder::new().name(name).spawn_scoped(scope, work);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (scope, name, work);
        Err(no_threads())
    }
}

/// Starts `work` on a thread called `name`; in a browser tab, refuses (the app's map uses it).
#[cfg(feature = "gui")]
pub(crate) fn spawn<T: Send + 'static>(
    name: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    #[cfg(not(target_arch = "wasm32"))]
    return std::thread::Builder::new().name(name).spawn(work);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (name, work);
        Err(no_threads())
    }
}

#[cfg(target_arch = "wasm32")]
fn no_threads() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "a browser tab has no threads")
}
