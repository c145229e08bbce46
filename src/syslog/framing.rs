//! Syslog over a byte stream (TCP, TLS) → one message's bytes at a time.
//! Pure. Each frame says its own method (RFC 6587 §3.4): a digit starts
//! octet counting (`LEN SP MSG`, the only method RFC 5425 allows over TLS),
//! anything else is a message ended by LF (or NUL, as some senders do).
//! "Not enough bytes yet" is `None`, not an error; a frame longer than
//! [`MAX_FRAME_BYTES`] or a bad length is an error after which the stream
//! cannot be resynchronised, and the connection is closed.

/// The longest frame accepted (RFC 5425 asks receivers for 2 KiB at
/// least and recommends 8 KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Why a stream cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("an octet count is not a number followed by a space")]
    BadLength,
    #[error("a frame is longer than {MAX_FRAME_BYTES} bytes")]
    TooLong,
}

/// The bytes of one connection not yet split into messages.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    start: usize,
}

impl Deframer {
    pub fn new() -> Deframer {
        Deframer::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes held and not yet returned.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message, `None` until one is complete.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        let skip = self.buf[self.start..]
            .iter()
            .take_while(|c| matches!(c, b'\n' | b'\r' | b'\0' | b' '))
            .count();
        self.start += skip;
        let b = &self.buf[self.start..];
        let first = *b.first()?;
        if first.is_ascii_digit() {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 6 {
                return Some(Err(FrameError::TooLong));
            }
            let &sep = b.get(digits)?;
            if sep != b' ' {
                return Some(Err(FrameError::BadLength));
            }
            let len = b[..digits]
                .iter()
                .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
            if len > MAX_FRAME_BYTES {
                return Some(Err(FrameError::TooLong));
            }
            let body = digits + 1;
            let frame = b.get(body..body + len)?.to_vec();
            self.start += body + len;
            Some(Ok(frame))
        } else {
            match b.iter().position(|c| matches!(c, b'\n' | b'\0')) {
                Some(end) if end <= MAX_FRAME_BYTES => {
                    let frame = b[..end].to_vec();
                    self.start += end + 1;
                    Some(Ok(frame))
                }
                Some(_) => Some(Err(FrameError::TooLong)),
                None if b.len() > MAX_FRAME_BYTES => Some(Err(FrameError::TooLong)),
                None => None,
            }
        }
    }

    /// At the end of the stream: a last LF-framed message the sender did
    /// not end (an unfinished octet-counted frame is dropped).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let b = &self.buf[self.start..];
        let rest = (!b.is_empty() && !b[0].is_ascii_digit() && b.len() <= MAX_FRAME_BYTES)
            .then(|| b.to_vec());
        self.buf.clear();
        self.start = 0;
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(d: &mut Deframer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(f) = d.next_frame() {
            out.push(f.unwrap());
        }
        out
    }

    #[test]
    fn octet_counted_and_newline_frames_mix_and_split_anywhere() {
        let stream = b"11 <13>1 - a b\n<14>two\r\n4 <1>x\n\n<15>three\0";
        for cut in 0..stream.len() {
            let mut d = Deframer::new();
            d.push(&stream[..cut]);
            let mut got = all(&mut d);
            d.push(&stream[cut..]);
            got.extend(all(&mut d));
            assert_eq!(
                got,
                vec![
                    b"<13>1 - a b".to_vec(),
                    b"<14>two\r".to_vec(),
                    b"<1>x".to_vec(),
                    b"<15>three".to_vec()
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn bad_and_huge_frames_are_errors_and_an_unended_line_comes_at_the_end() {
        let mut d = Deframer::new();
        d.push(b"12x <13>hello");
        assert_eq!(d.next_frame(), Some(Err(FrameError::BadLength)));
        let mut d = Deframer::new();
        d.push(b"9999999 ");
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
        let mut d = Deframer::new();
        d.push(b"70000 <13>");
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
        let mut d = Deframer::new();
        d.push(&vec![b'a'; MAX_FRAME_BYTES + 1]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
        let mut d = Deframer::new();
        d.push(b"<13>last words");
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.finish(), Some(b"<13>last words".to_vec()));
        d.push(b"20 <13>cut");
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.finish(), None);
    }

    proptest! {
        #[test]
        fn any_bytes_in_any_chunks_never_panic_and_frames_stay_bounded(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            chunk in 1usize..512,
        ) {
            let mut d = Deframer::new();
            'outer: for c in data.chunks(chunk) {
                d.push(c);
                while let Some(f) = d.next_frame() {
                    match f {
                        Ok(f) => prop_assert!(f.len() <= MAX_FRAME_BYTES),
                        Err(_) => break 'outer,
                    }
                }
            }
            prop_assert!(d.pending() <= data.len());
        }

        #[test]
        fn octet_counted_messages_come_back_whole(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..20),
            chunk in 1usize..64,
        ) {
            let mut stream = Vec::new();
            for m in &msgs {
                stream.extend_from_slice(format!("{} ", m.len()).as_bytes());
                stream.extend_from_slice(m);
            }
            let mut d = Deframer::new();
            let mut got = Vec::new();
            for c in stream.chunks(chunk) {
                d.push(c);
                while let Some(f) = d.next_frame() {
                    got.push(f.unwrap());
                }
            }
            // A message that starts with a separator byte loses it only in
            // LF framing; octet counting keeps every byte, but an empty
            // frame is still a frame.
            prop_assert_eq!(got, msgs);
        }
    }
}
