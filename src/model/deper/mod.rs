//! DEPER (placeholder while the captioner lands).
