//! `sigil`: sign Rust crates and verify them against the Sigil log
//! (DESIGN.md "Interfaces"; the commands are in `sigil_cli::app`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sigil_cli::app::main_sigil()
}
