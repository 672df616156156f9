//! `sigil monitor` (DESIGN.md "Interfaces"): follows a log through its
//! public tiles only (`/checkpoint`, `/tile/...`, `/tile/entries/...`;
//! C2SP tlog-tiles) and checks everything it publishes with the
//! client's monitor engine (`sigil_client::monitor`): checkpoint
//! signatures, consistency computed from tiles, every tile hash recomputed
//! from the entry bundles, and the admission rules re-run on every entry.
//! Alerts are JSON lines on stdout, and POSTed to `--webhook` when given.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sigil_client::ClientOptions;
use sigil_client::blocking::{LogClient, Webhook};
use sigil_client::monitor::{Alert, Monitor, MonitorError, Watch};
use sigil_core::trust_root::TrustRoot;

use crate::error::CliError;

/// What `sigil monitor` was asked.
pub struct MonitorRequest<'a> {
    /// The log's base URL.
    pub log: &'a str,
    /// The trust root file.
    pub trust_root: &'a Path,
    /// Where the monitor keeps its state.
    pub state: &'a Path,
    /// Crates to alert on.
    pub crates: &'a [String],
    /// Identities to alert on.
    pub identities: &'a [String],
    /// Where to POST each alert as JSON.
    pub webhook: Option<&'a str>,
    /// Catch up once and stop.
    pub once: bool,
    /// Seconds between polls.
    pub interval: Duration,
    /// Show a progress bar while catching up.
    pub progress: bool,
    /// How the log and the webhook are reached (timeout, CAs for https).
    pub options: &'a ClientOptions,
}

/// Runs the monitor. With `once`, returns an error if a violation was
/// found; otherwise polls until killed.
pub fn run(req: &MonitorRequest<'_>) -> Result<(), CliError> {
    let bytes = std::fs::read(req.trust_root).map_err(|e| CliError::file(req.trust_root, e))?;
    let trust = TrustRoot::parse(&bytes).map_err(|e| CliError::file(req.trust_root, e))?;
    let watch = Watch {
        crates: req.crates.iter().cloned().collect(),
        identities: req.identities.iter().cloned().collect(),
    };
    let monitor =
        Monitor::from_trust_root(&trust, watch).map_err(|e| CliError::file(req.trust_root, e))?;
    std::fs::create_dir_all(req.state).map_err(|e| CliError::file(req.state, e))?;
    let source = LogClient::with_options(req.log, req.options)
        .map_err(|e| CliError::from_client("the log", e))?;
    let webhook = req
        .webhook
        .map(|url| Webhook::with_options(url, req.options))
        .transpose()
        .map_err(|e| CliError::from_client("the webhook", e))?;
    let mut violations = 0u64;
    loop {
        let bar = if req.progress {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} checking entries {pos}/{len} {wide_bar}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        let mut on_alert = |alert: &Alert| {
            if alert.is_violation() {
                violations += 1;
            }
            match alert.to_json_line() {
                Ok(line) => {
                    bar.suspend(|| print!("{line}"));
                    if let Some(hook) = &webhook
                        && let Err(e) = hook.post(line.as_bytes())
                    {
                        bar.suspend(|| eprintln!("sigil monitor: webhook {}: {e}", hook.url()));
                    }
                }
                Err(e) => eprintln!("sigil monitor: cannot encode an alert: {e}"),
            }
        };
        let mut on_progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let step = monitor.step(&source, req.state, &mut on_alert, &mut on_progress);
        bar.finish_and_clear();
        match step {
            Ok(report) => {
                if report.from_size != report.to_size {
                    eprintln!(
                        "sigil monitor: checked entries {}..{} of {} (checkpoint size {})",
                        report.from_size, report.to_size, trust.log_origin, report.checkpoint_size
                    );
                }
            }
            Err(MonitorError::Violation { code, reason }) => {
                eprintln!("sigil monitor: VIOLATION ({code}): {reason}");
                if req.once {
                    return Err(CliError::Check {
                        code,
                        message: format!("the log violated its rules: {reason}"),
                    });
                }
            }
            Err(e @ (MonitorError::Fetch(_) | MonitorError::Locked { .. })) if !req.once => {
                eprintln!("sigil monitor: {e}; retrying");
            }
            Err(e) => {
                return Err(CliError::Check {
                    code: "monitor_error",
                    message: e.to_string(),
                });
            }
        }
        if req.once {
            return if violations > 0 {
                Err(CliError::Check {
                    code: "violation",
                    message: format!("{violations} violation(s) found; see the alerts"),
                })
            } else {
                Ok(())
            };
        }
        std::thread::sleep(req.interval);
    }
}
