//! Open311 request bodies, form-encoded or multipart: parsed or refused with a 400, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the content type, the rest is the body.
    let Some((&pick, body)) = data.split_first() else { return };
    let ctype = match pick % 3 {
        0 => "application/x-www-form-urlencoded",
        1 => "multipart/form-data; boundary=XyZ",
        _ => "multipart/form-data; boundary=----chuangcheng",
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else { return };
    let parsed = rt.block_on(chuangcheng::api::open311::parse_form(ctype, bytes::Bytes::copy_from_slice(body)));
    if let Ok((params, _media)) = parsed {
        let _ = params.number("lat");
        let _ = params.number("long");
        let _ = params.time("updated_after");
        let _ = params.list("service_code");
        let _ = params.attributes();
    }
});
