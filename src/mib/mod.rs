//! placeholder: owned by the mib work; replaced when it lands.
