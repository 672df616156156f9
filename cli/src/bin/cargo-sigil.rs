//! `cargo sigil verify`: cargo runs this as `cargo-sigil sigil verify ...`;
//! it is `sigil verify-lock` (see `sigil_cli::app`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sigil_cli::app::main_cargo()
}
