//! placeholder for statement (being written)
