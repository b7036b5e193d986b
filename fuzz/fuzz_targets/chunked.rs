//! The chunked body decoder, fed arbitrary bytes in arbitrary pieces: it consumes
//! what it is given, never more, and never loops without progress.
#![no_main]

use libfuzzer_sys::fuzz_target;
use local_host::h1::{ChunkState, ChunkStep, chunk_step};

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let piece = usize::from(split).max(1);
    let mut st = ChunkState::Size;
    let mut buf: Vec<u8> = Vec::new();
    for part in body.chunks(piece) {
        buf.extend_from_slice(part);
        let mut stalls = 0;
        loop {
            match chunk_step(&mut st, &buf) {
                ChunkStep::Consumed { consumed, .. } => {
                    assert!(consumed <= buf.len());
                    if consumed == 0 {
                        stalls += 1;
                        if stalls > 2 {
                            break;
                        }
                        continue;
                    }
                    buf.drain(..consumed);
                }
                _ => break,
            }
        }
        if matches!(st, ChunkState::Done) {
            break;
        }
    }
});
