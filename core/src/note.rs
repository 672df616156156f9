//! placeholder for note (being written)
