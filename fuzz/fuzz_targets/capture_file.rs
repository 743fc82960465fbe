#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rdpdiag::fuzz_targets::capture_file(data));
