//! placeholder for proof (being written)
