//! Raw HTTP/1.1 over a `TcpStream`, for the requests an HTTP client cannot
//! make: heads that never end, bodies cut short, two requests written at
//! once (pipelining). Everything else goes through [`crate::http`].

use std::io::{BufRead, BufReader, Error, ErrorKind, Read};
use std::net::TcpStream;

/// Reads one answer from `conn`: (status, body, whether the server closes).
pub fn read_answer(conn: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>, bool)> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(Error::new(
            ErrorKind::UnexpectedEof,
            "closed before answering",
        ));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "bad status line"))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "closed in the head"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let body = if chunked {
        read_chunked(conn)?
    } else if let Some(n) = length {
        let mut b = vec![0; n];
        conn.read_exact(&mut b)?;
        b
    } else if status == 204 || status == 304 || status < 200 {
        Vec::new()
    } else {
        close = true;
        let mut b = Vec::new();
        conn.read_to_end(&mut b)?;
        b
    };
    Ok((status, body, close))
}

fn read_chunked(conn: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let bad = || Error::new(ErrorKind::InvalidData, "bad chunk");
    let mut out = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        if n == 0 {
            loop {
                line.clear();
                if conn.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(out);
                }
            }
        }
        let start = out.len();
        out.resize(start + n, 0);
        conn.read_exact(&mut out[start..])?;
        let mut crlf = [0; 2];
        conn.read_exact(&mut crlf)?;
    }
}

/// A connection with a `POST /v1/auth/challenge` in flight: the head
/// (declaring `content_length` bytes of JSON) and the body's first byte,
/// `{`, are sent; the rest is up to the test (or never comes).
pub fn challenge_in_flight(addr: std::net::SocketAddr, content_length: usize) -> TcpStream {
    use std::io::Write;
    let mut c = TcpStream::connect(addr).expect("connect");
    c.write_all(
        format!(
            "POST /v1/auth/challenge HTTP/1.1\r\nHost: tessera\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .expect("the head and the body's first byte");
    c
}
