//! The passive driver: packets from captures or interfaces, reassembled per connection and direction.
pub mod reasm;
