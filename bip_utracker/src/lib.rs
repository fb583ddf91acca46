//! UDP tracker (BEP 15): wire codec, client, embeddable server
//!
//! Work in progress.
