//! placeholder: owned by the config work; replaced when it lands.
