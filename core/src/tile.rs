//! placeholder for tile (being written)
