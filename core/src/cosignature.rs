//! placeholder for cosignature (being written)
