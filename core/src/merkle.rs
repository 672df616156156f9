//! placeholder for merkle (being written)
