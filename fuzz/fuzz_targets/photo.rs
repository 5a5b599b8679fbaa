//! Uploaded photos: sniffing, decoding, thumbnails and EXIF on arbitrary bytes, never a panic.
#![no_main]
use chuangcheng::domain::photo::{read_exif, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_exif(data);
    if let Some(kind) = sniff(data) {
        let _ = chuangcheng::app::attachments::process(data, kind);
    }
});
