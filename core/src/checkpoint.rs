//! placeholder for checkpoint (being written)
