//! placeholder: owned by the icmp work; replaced when it lands.
