//! Named threads where there are threads. A browser tab has none (`std` fails every spawn
//! there), so in the wasm build these say so without touching `std::thread::Builder`, which
//! the browser's lints keep out of it; the callers already go on without the thread.

use std::io;
#[cfg(feature = "gui")]
use std::thread::JoinHandle;
use std::thread::{Scope, ScopedJoinHandle};

/// Spawns `work` on a thread called `name`.
#[cfg(feature = "gui")]
pub(crate) fn spawn<F, T>(name: String, work: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    #[cfg(not(target_arch = "wasm32"))]
    return std::thread::Builder::new().name(name).spawn(work);
    #[cfg(target_arch = "wasm32")]
    {
        drop((name, work));
        Err(no_threads())
    }
}

/// Spawns `work` on a thread called `name` within `scope`.
pub(crate) fn spawn_scoped<'scope, F, T>(
    scope: &'scope Scope<'scope, '_>,
    name: String,
    work: F,
) -> io::Result<ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    #[cfg(not(target_arch = "wasm32"))]
    return std::thread::Builder::new().name(name).spawn_scoped(scope, work);
    #[cfg(target_arch = "wasm32")]
    {
        drop((scope, name, work));
        Err(no_threads())
    }
}

/// Why no thread started in a browser tab.
#[cfg(target_arch = "wasm32")]
fn no_threads() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "a browser tab has no threads")
}
