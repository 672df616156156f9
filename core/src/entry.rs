//! placeholder for entry (being written)
