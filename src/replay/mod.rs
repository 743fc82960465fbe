//! The passive driver.
pub mod ip;
pub mod packet;
pub mod reasm;
