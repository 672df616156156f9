//! hello-sigil: the crate `sigil quickstart` packages, signs, logs and
//! verifies. It does one thing.

/// A greeting for `name`.
pub fn greet(name: &str) -> String {
    format!("Hello, {name}! This crate was signed with Sigil.")
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets() {
        assert!(super::greet("cargo").contains("cargo"));
    }
}
