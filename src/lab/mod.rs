//! placeholder: owned by the lab work; replaced when it lands.
