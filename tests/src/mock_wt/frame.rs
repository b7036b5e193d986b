//! WebSocket frames (RFC 6455) with `permessage-deflate` (RFC 7692), written by hand
//! so that the mock Wt and the test client control every byte: Wt writes its 101 and
//! its first frame in one write, compresses frames when the extension is negotiated,
//! and (its 4.14 bug) wraps the whole stream in gzip. The client side is strict like a
//! browser: a reserved opcode or an unexpected RSV bit is an error, which is how
//! Chromium reports Wt's gzipped socket ("Invalid frame header").

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Frame opcodes.
pub mod op {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// RSV1: the payload is deflated (permessage-deflate).
    pub compressed: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn text(s: &str) -> Frame {
        Frame {
            fin: true,
            compressed: false,
            opcode: op::TEXT,
            payload: s.as_bytes().to_vec(),
        }
    }
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// RSV2/RSV3 set, or RSV1 without a negotiated extension.
    ReservedBits(u8),
    /// An opcode RFC 6455 does not define (0x3-0x7, 0xB-0xF).
    InvalidOpcode(u8),
    /// A client frame without a mask, or a server frame with one.
    Masking,
    /// A control frame longer than 125 bytes or fragmented.
    BadControl,
    /// The payload does not inflate.
    Inflate(String),
    /// A frame over the limit (16 MB).
    TooLong(u64),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::ReservedBits(b) => write!(f, "invalid frame header: reserved bits {b:#x}"),
            FrameError::InvalidOpcode(o) => write!(f, "invalid frame header: opcode {o:#x}"),
            FrameError::Masking => write!(f, "invalid frame header: masking"),
            FrameError::BadControl => write!(f, "invalid control frame"),
            FrameError::Inflate(e) => write!(f, "inflate: {e}"),
            FrameError::TooLong(n) => write!(f, "frame of {n} bytes"),
        }
    }
}

const MAX_FRAME: u64 = 16 << 20;

/// Encodes a frame; `mask` for client frames.
pub fn encode(frame: &Frame, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.payload.len() + 14);
    let mut b0 = frame.opcode & 0x0f;
    if frame.fin {
        b0 |= 0x80;
    }
    if frame.compressed {
        b0 |= 0x40;
    }
    out.push(b0);
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = frame.payload.len();
    if len < 126 {
        out.push(m | len as u8);
    } else if len < 1 << 16 {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(frame.payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(&frame.payload),
    }
    out
}

/// Decodes the frame at the start of `buf` and removes its bytes; `Ok(None)` when more
/// bytes are needed. `masked`: whether frames must be masked (frames from a client).
/// `deflate`: whether RSV1 is allowed (permessage-deflate negotiated).
pub fn decode(buf: &mut Vec<u8>, masked: bool, deflate: bool) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let rsv = b0 & 0x70;
    if rsv & 0x30 != 0 || (rsv & 0x40 != 0 && !deflate) {
        return Err(FrameError::ReservedBits(rsv));
    }
    let opcode = b0 & 0x0f;
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(FrameError::InvalidOpcode(opcode));
    }
    if (b1 & 0x80 != 0) != masked {
        return Err(FrameError::Masking);
    }
    let fin = b0 & 0x80 != 0;
    if opcode >= 0x8 && (!fin || b1 & 0x7f > 125) {
        return Err(FrameError::BadControl);
    }
    let (len, mut at) = match b1 & 0x7f {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(FrameError::TooLong(len));
    }
    let key = if masked {
        if buf.len() < at + 4 {
            return Ok(None);
        }
        let k = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(k)
    } else {
        None
    };
    let end = at + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    let mut payload = buf[at..end].to_vec();
    if let Some(k) = key {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= k[i % 4];
        }
    }
    buf.drain(..end);
    Ok(Some(Frame {
        fin,
        compressed: rsv & 0x40 != 0,
        opcode,
        payload,
    }))
}

/// The sending side of permessage-deflate with context takeover (Wt's default and
/// Chromium's): raw deflate, a sync flush per message, the `00 00 ff ff` tail removed.
pub struct Deflater(Compress);

impl Default for Deflater {
    fn default() -> Self {
        Deflater(Compress::new(Compression::default(), false))
    }
}

impl Deflater {
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut input = data;
        loop {
            out.reserve(256);
            let before_in = self.0.total_in();
            // Never fails on a fresh Vec with spare capacity.
            let _ = self.0.compress_vec(input, &mut out, FlushCompress::Sync);
            let used = (self.0.total_in() - before_in) as usize;
            input = &input[used..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        out
    }
}

/// The receiving side of permessage-deflate with context takeover.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(Decompress::new(false))
    }
}

impl Inflater {
    pub fn message(&mut self, data: &[u8]) -> Result<Vec<u8>, FrameError> {
        let mut input = Vec::with_capacity(data.len() + 4);
        input.extend_from_slice(data);
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::with_capacity(data.len() * 4 + 64);
        let mut rest = &input[..];
        loop {
            out.reserve(1024);
            let before_in = self.0.total_in();
            let status = self
                .0
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(|e| FrameError::Inflate(e.to_string()))?;
            let used = (self.0.total_in() - before_in) as usize;
            rest = &rest[used..];
            if out.len() as u64 > MAX_FRAME {
                return Err(FrameError::TooLong(out.len() as u64));
            }
            match status {
                Status::StreamEnd => break,
                _ if rest.is_empty() && out.len() < out.capacity() => break,
                Status::BufError if used == 0 => break,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Wt 4.14's gzip wrapping of a reply whose request accepted gzip: zlib's gzip header
/// (10 bytes, no name, mtime 0, OS unix) goes out with the first content, then deflate
/// output without flushing (`Z_NO_FLUSH`), so small frames mostly stay in zlib.
pub struct GzipStream {
    header_sent: bool,
    deflate: Compress,
}

impl Default for GzipStream {
    fn default() -> Self {
        GzipStream {
            header_sent: false,
            deflate: Compress::new(Compression::default(), false),
        }
    }
}

/// zlib's gzip header for `deflateInit2(..., 15 + 16, ...)` at the default level.
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03];

impl GzipStream {
    pub fn write(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        if !self.header_sent {
            self.header_sent = true;
            out.extend_from_slice(&GZIP_HEADER);
        }
        let mut input = data;
        while !input.is_empty() {
            out.reserve(data.len() + 64);
            let before_in = self.deflate.total_in();
            let _ = self
                .deflate
                .compress_vec(input, &mut out, FlushCompress::None);
            let used = (self.deflate.total_in() - before_in) as usize;
            if used == 0 {
                break;
            }
            input = &input[used..];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_and_without_mask() {
        for len in [0usize, 5, 125, 126, 300, 70_000] {
            let f = Frame {
                fin: true,
                compressed: false,
                opcode: op::BINARY,
                payload: (0..len).map(|i| i as u8).collect(),
            };
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut bytes = encode(&f, mask);
                bytes.extend_from_slice(b"next");
                let got = decode(&mut bytes, mask.is_some(), false).unwrap();
                assert_eq!(got.as_ref(), Some(&f));
                assert_eq!(bytes, b"next");
            }
        }
    }

    #[test]
    fn partial_frames_wait_for_more() {
        let bytes = encode(&Frame::text("hello"), Some([9, 9, 9, 9]));
        for cut in 0..bytes.len() {
            let mut part = bytes[..cut].to_vec();
            assert_eq!(decode(&mut part, true, false), Ok(None), "cut {cut}");
        }
    }

    #[test]
    fn gzip_bytes_are_an_invalid_frame_header() {
        // What a client reads after Wt's gzipped 101: 0x1f has RSV3 set and opcode 0xf.
        let mut g = GzipStream::default().write(&encode(&Frame::text("connect"), None));
        assert_eq!(g[..10], GZIP_HEADER);
        let e = decode(&mut g, false, false).unwrap_err();
        assert_eq!(e, FrameError::ReservedBits(0x10));
        assert!(e.to_string().starts_with("invalid frame header"), "{e}");
    }

    #[test]
    fn rsv1_needs_the_extension_and_masks_are_checked() {
        let mut f = Frame::text("x");
        f.compressed = true;
        let bytes = encode(&f, None);
        assert_eq!(
            decode(&mut bytes.clone(), false, false),
            Err(FrameError::ReservedBits(0x40))
        );
        assert!(decode(&mut bytes.clone(), false, true).unwrap().is_some());
        assert_eq!(
            decode(&mut bytes.clone(), true, true),
            Err(FrameError::Masking)
        );
    }

    #[test]
    fn deflate_round_trips_with_context_takeover() {
        let (mut d, mut i) = (Deflater::default(), Inflater::default());
        for m in ["connect", "connect", "&signal=none&connected=0", ""] {
            let z = d.message(m.as_bytes());
            assert_eq!(i.message(&z).unwrap(), m.as_bytes());
        }
        // RFC 7692's example: "Hello" compressed without context.
        let mut fresh = Inflater::default();
        assert_eq!(
            fresh
                .message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
                .unwrap(),
            b"Hello"
        );
    }
}
