//! A Sigil server binary (`sigil-log`, `sigil-ca`, `sigil-witness`) run
//! as a child process, as `sigil quickstart` and the end-to-end tests run
//! them: started with `--listen 127.0.0.1:0`, its address read from the one
//! line every Sigil server prints once it accepts connections (`listening on
//! http://IP:PORT` on stderr, DESIGN.md "Interfaces"), its stderr kept for
//! the user to read, and killed when dropped, so that no server outlives
//! the program that started it.
//!
//! The binaries are looked for next to the running program first (cargo
//! puts `sigil`, `sigil-ca` and `sigil-log` in one directory, and `cargo
//! install` in one `bin/`), then one directory up (examples and tests run
//! from `target/<profile>/examples` and `target/<profile>/deps`), then on
//! `PATH`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// How long a server may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The binary is in none of the places searched.
    #[error(
        "cannot find the `{name}` program next to {} or on PATH: build it with `cargo build --bins` \
         (or install it: `cargo install --locked --path log-server --path ca`)",
        searched.display()
    )]
    NotFound {
        /// The binary's name.
        name: String,
        /// The directory of the running program.
        searched: PathBuf,
    },
    /// The process could not be spawned.
    #[error("cannot run {}: {source}", path.display())]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// It exited, or did not print its listening line in time.
    #[error("`{name}` did not start (no `listening on` line within {}s); it printed:\n{stderr}", START_TIMEOUT.as_secs())]
    NotListening {
        /// The binary's name.
        name: String,
        /// Everything it printed on stderr.
        stderr: String,
    },
}

/// The path of a Sigil binary (module docs for where it is looked for).
///
/// # Errors
///
/// [`ProcessError::NotFound`].
pub fn find_binary(name: &str) -> Result<PathBuf, ProcessError> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut candidates = vec![exe_dir.join(name)];
    if let Some(up) = exe_dir.parent() {
        candidates.push(up.join(name));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join(name)));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| ProcessError::NotFound {
            name: name.to_owned(),
            searched: exe_dir,
        })
}

/// A running server (module docs). Killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Option<Child>,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Spawns `command` (a server told to listen, typically on port 0) and
    /// waits up to [`START_TIMEOUT`] for its listening line. Its stderr is
    /// kept (see [`ServerProcess::stderr`]) and, if `log` is given, also
    /// appended to that file as it comes. `name` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Spawn`], or [`ProcessError::NotListening`] with what
    /// it printed (the process is then killed).
    pub fn start(
        name: &str,
        mut command: Command,
        log: Option<&Path>,
    ) -> Result<ServerProcess, ProcessError> {
        let path = PathBuf::from(command.get_program());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ProcessError::Spawn { path, source })?;
        let captured = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            let sink = captured.clone();
            let mut file = log.and_then(|p| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .ok()
            });
            // Drains the pipe for the server's whole life, so it never
            // blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(url) = line.strip_prefix("listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                    }
                    if let Some(f) = file.as_mut() {
                        let _ = writeln!(f, "{line}");
                    }
                    let mut all = sink.lock().unwrap_or_else(PoisonError::into_inner);
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        let mut server = ServerProcess {
            name: name.to_owned(),
            child: Some(child),
            url: String::new(),
            stderr: captured,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => {
                server.url = url;
                Ok(server)
            }
            Err(_) => {
                server.kill();
                // Let the reader thread drain what is left.
                std::thread::sleep(Duration::from_millis(50));
                Err(ProcessError::NotListening {
                    name: server.name.clone(),
                    stderr: server.stderr(),
                })
            }
        }
    }

    /// The process id, while it runs (to read its memory in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the server printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks the server to stop (SIGTERM, through the `kill` program: Sigil
    /// forbids `unsafe`) and waits up to `wait` for it to exit; returns
    /// whether it exited successfully. A server that does not stop in time
    /// is killed.
    pub fn terminate(mut self, wait: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        while waited < wait {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(step);
            waited += step;
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Kills the server (SIGKILL) and waits for it. Sigil's servers make
    /// nothing durable that they have not synced, so this loses only
    /// requests in flight.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
