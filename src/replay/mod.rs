//! The passive driver: captures replayed packet by packet into one `Session` per connection.
pub mod ip;
pub mod packet;
