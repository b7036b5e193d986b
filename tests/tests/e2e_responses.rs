//! The differential test of what happens after routing: servers that answer oddly
//! (malformed heads, unusual framing, interim answers, early answers, closing early)
//! and connection semantics (HTTP/1.0, pipelining, `Expect: 100-continue`, half-close,
//! `OPTIONS *`, `CONNECT`). Every case runs through a real HAProxy 2.6 and through
//! wtedge on the same config, in front of the same scripted origin (a raw TCP server
//! that plays the case's script for each request it reads); what the client receives
//! (interim and final heads byte for byte, body bytes, whether the connection stays
//! open) and what the origin receives must be the same. Nothing here is hard-coded:
//! the expected result is HAProxy's, observed at run time (the few cases README.md
//! lists as known differences only check that HAProxy still answers as it says).
//! Three variants: `option http-server-close`, without it, and with
//! `http-pretend-keepalive` too.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`; the README's test command installs it).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use local_host::run::Running;
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::raw::{Reader, find, header};

mod common;

/// What the origin does with one request, in order.
#[derive(Debug, Clone)]
enum Step {
    /// Reads the request body (`Content-Length` or chunked) and records it.
    Body,
    /// Writes these bytes.
    Send(Vec<u8>),
    /// Waits (lets the proxy forward what it has before the next step).
    Pause(u64),
    /// Closes the connection; the script ends.
    Close,
}

struct Case {
    name: String,
    /// Sent by the client in one write (`X-Case: <name>` picks the origin's script).
    request: Vec<u8>,
    /// Final answers the client waits for (two for a pipelined pair).
    answers: usize,
    /// The client shuts its sending side down after the request.
    half_close: bool,
    /// Sent by the client once a first head came back (a body after `100 Continue`).
    then: Option<Vec<u8>>,
    /// The origin's script for each request of this case.
    script: Vec<Step>,
    /// A difference README.md lists ("Known differences from HAProxy 2.6"): text
    /// HAProxy's first head holds (checked, so that the README stays true); wtedge's
    /// answer is not compared.
    known: Option<Vec<u8>>,
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// The cases, one a line: `name | request | the origin's script | options`.
///
/// - request: `GET` (a plain `GET /name`), or the bytes, `{name}` standing for the
///   case's name (the `X-Case` header that picks the origin's script);
/// - script: steps split by ` && `: `send BYTES` (`OK` alone: a `200` with `ok`),
///   `pause MS`, `body` (read the request body), `close`;
/// - option (one at most): `answers=N` (final answers awaited, for pipelining),
///   `half-close` (the client shuts its sending side after the request), `then=BYTES`
///   (sent once a first head came back), `known=TEXT` (a known difference, see
///   [`Case::known`]).
///
/// Bytes take `\r`, `\n`, `\xHH` and `\\`.
const CASES: &str = r#"
plain | GET | send OK
bad-status-code | GET | send HTTP/1.1 2x0 OK\r\n\r\n && close
four-digit-status | GET | send HTTP/1.1 2000 OK\r\n\r\n && close | known=HTTP/1.1 2000 OK\r\n
two-digit-status | GET | send HTTP/1.1 20 OK\r\n\r\n && close | known=HTTP/1.1 20 OK\r\n
leading-zero-status | GET | send HTTP/1.1 0200 OK\r\ncontent-length: 2\r\n\r\nok | known=HTTP/1.1 0200 OK\r\n
http09-response | GET | send HTTP/0.9 200 OK\r\ncontent-length: 2\r\n\r\nok
http20-response | GET | send HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok
http10-response-close-delimited | GET | send HTTP/1.0 200 OK\r\n\r\nhello && pause 100 && close
lf-line-ends | GET | send HTTP/1.1 200 OK\nX-A: 1\ncontent-length: 2\n\nok
empty-lines-first | GET | send \r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok
control-chars-in-value | GET | send HTTP/1.1 200 OK\r\nX-A: a\x01b\x7fc\x00d\r\ncontent-length: 2\r\n\r\nok
bare-cr-in-value | GET | send HTTP/1.1 200 OK\r\nX-A: a\rb\r\ncontent-length: 2\r\n\r\nok && close
8-bit-reason-and-value | GET | send HTTP/1.1 200 \xc3\xa9t\xe9\r\nX-A: \xff\r\ncontent-length: 2\r\n\r\nok
more-than-content-length | GET | send HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA && pause 100 && close
transfer-encoding-gzip | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nhello && close
chunk-extension-and-lf | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2 ; a=b\nok\n0\n\n
upgrade-without-request | GET | send HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw && pause 100 && close
continue-to-http10 | GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 100 Continue\r\n\r\n && send OK
response-close-to-http10-keep-alive | GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok && close
request-connection-close | GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Case: {name}\r\n\r\n | send OK
bad-version | GET | send HTTP/x.1 200 OK\r\n\r\n && close
no-reason | GET | send HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok
garbage | GET | send hello there\r\n\r\n && close
http10-response | GET | send HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok
bad-header-name | GET | send HTTP/1.1 200 OK\r\nBad Name: x\r\ncontent-length: 2\r\n\r\nok
header-without-colon | GET | send HTTP/1.1 200 OK\r\nNoColon\r\ncontent-length: 2\r\n\r\nok
obs-fold | GET | send HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\ncontent-length: 2\r\n\r\nok
conflicting-content-length | GET | send HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nokk && close
same-content-length-twice | GET | send HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok
content-length-list | GET | send HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok
negative-content-length | GET | send HTTP/1.1 200 OK\r\ncontent-length: -2\r\n\r\nok && close
content-length-and-chunked | GET | send HTTP/1.1 200 OK\r\ncontent-length: 10\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n
chunked | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;x=1\r\nok\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n
bad-chunk-size | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n && close
bad-chunk-size-later | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n && pause 150 && send zz\r\nok\r\n0\r\n\r\n && close
close-delimited | GET | send HTTP/1.1 200 OK\r\n\r\nhello && pause 100 && close
close-delimited-keep-alive-header | GET | send HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nhello && pause 100 && close
close-delimited-to-http10 | GET / HTTP/1.0\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\n\r\nhello && pause 100 && close
close-delimited-to-http10-keep-alive | GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\n\r\nhello && pause 100 && close
close-mid-head | GET | send HTTP/1.1 200 OK\r\ncontent-le && pause 100 && close
close-mid-body | GET | send HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello && pause 150 && close
close-mid-chunk | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel && pause 150 && close
nothing-then-close | GET | close
continue-then-200 | GET | send HTTP/1.1 100 Continue\r\n\r\n && pause 100 && send OK
early-hints-then-200 | GET | send HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n && pause 100 && send OK
interim-and-final-together | GET | send HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok
204-with-body | GET | send HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello && pause 100 && close
204-with-content-length | GET | send HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n
204-chunked | GET | send HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked\r\n\r\n
103-with-length-and-connection | GET | send HTTP/1.1 103 Early Hints\r\ncontent-length: 0\r\nConnection: keep-alive\r\nLink: </a>\r\n\r\n && send OK
204-plain | GET | send HTTP/1.1 204 No Content\r\n\r\n
304-with-content-length | GET | send HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n
304-chunked | GET | send HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n
head-with-content-length | HEAD / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n
head-chunked | HEAD / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n
head-no-length | HEAD / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\n\r\n
response-connection-close | GET | send HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok && close
response-connection-keep-alive | GET | send HTTP/1.1 200 OK\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\nok
http10-client | GET / HTTP/1.0\r\nX-Case: {name}\r\n\r\n | send OK
http10-client-keep-alive | GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Case: {name}\r\n\r\n | send OK
http10-client-chunked-response | GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n
expect-100-continue | POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | send HTTP/1.1 100 Continue\r\n\r\n && body && send OK
expect-100-continue-server-silent | POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | body && send OK
post-chunked | POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Case: {name}\r\n\r\n4\r\nbody\r\n0\r\n\r\n | body && send OK
post-chunked-trailers | POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Case: {name}\r\n\r\n4\r\nbody\r\n0\r\nX-T: 1\r\n\r\n | body && send OK
answer-before-body | POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nX-Case: {name}\r\n\r\nabc | send OK && pause 100 && close
options-star | OPTIONS * HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
connect | CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 Connection established\r\n\r\ntunnelled && pause 100 && close
connect-80 | CONNECT x:80 HTTP/1.1\r\nHost: x:80\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\n\r\n && pause 100 && close
connect-8443 | CONNECT x:8443 HTTP/1.1\r\nHost: x:8443\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\n\r\n && pause 100 && close
connect-refused | CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno
pipelined | GET /1 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK | answers=2
half-close | GET | send OK | half-close
half-close-http10 | GET / HTTP/1.0\r\nX-Case: {name}\r\n\r\n | send OK | half-close
expect-then-body | POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 100 Continue\r\n\r\n && body && send OK | then=body
expect-final-without-continue | POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n | then=body
answer-before-chunked-body | POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Case: {name}\r\n\r\n3\r\nabc\r\n | send OK && pause 100 && close | then=0\r\n\r\n
server-silent | GET | pause 1300 && close
stall-mid-body | GET | send HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello && pause 1300 && close
head-with-body | HEAD / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello && pause 100 && close
304-with-body | GET | send HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\nhello && pause 100 && close
content-length-leading-zeros | GET | send HTTP/1.1 200 OK\r\ncontent-length: 002\r\n\r\nok
content-length-empty | GET | send HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\nok && close
content-length-plus | GET | send HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nok && close
content-length-spaces | GET | send HTTP/1.1 200 OK\r\ncontent-length:   2  \r\n\r\nok
content-length-huge | GET | send HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\nok && close
chunk-size-uppercase-zeros | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n000A\r\n0123456789\r\n0000\r\n\r\n
chunk-size-overflow | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffffff\r\nok\r\n && close
chunk-size-space | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2   \r\nok\r\n0\r\n\r\n
bad-trailer | GET | send HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nNoColon\r\n\r\n && close
continue-then-close | GET | send HTTP/1.1 100 Continue\r\n\r\n && pause 100 && close
response-connection-upgrade | GET | send HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: websocket\r\ncontent-length: 2\r\n\r\nok | known=\r\nSec-Websocket-Accept: X7sdFi1aZDLMcFz+yURsFmFjwvU=\r\n
response-websocket-headers-without-accept | GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n && pause 100 && close
long-reason | GET | send HTTP/1.1 200 This reason is rather long, with: colons; and other bytes\t!\r\ncontent-length: 2\r\n\r\nok
post-http10-keep-alive | POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | body && send OK
request-keep-alive-and-close | GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\nX-Case: {name}\r\n\r\n | send OK
response-connection-token | GET | send HTTP/1.1 200 OK\r\nConnection: X-Foo\r\nX-Foo: 1\r\ncontent-length: 2\r\n\r\nok
response-connection-close-and-token | GET | send HTTP/1.1 200 OK\r\nConnection: close, X-Foo\r\ncontent-length: 2\r\n\r\nok && close
response-connection-keep-alive-and-token | GET | send HTTP/1.1 200 OK\r\nConnection: Keep-Alive , X-Foo\r\ncontent-length: 2\r\n\r\nok
request-connection-token | GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\nX-Case: {name}\r\n\r\n | send OK
request-connection-upgrade-other | GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\nX-Case: {name}\r\n\r\n | send OK
response-connection-two-tokens | GET | send HTTP/1.1 200 OK\r\nConnection: X-Foo,X-Bar ,close\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\nok
request-proxy-connection | GET / HTTP/1.1\r\nHost: x\r\nProxy-Connection: keep-alive\r\nX-Case: {name}\r\n\r\n | send OK
request-firefox-websocket | GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nframes && pause 100 && close
request-upgrade-h2c-101 | GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nh2 && pause 100 && close
http10-response-keep-alive | GET | send HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\nok
http10-response-to-http10-client | GET / HTTP/1.0\r\nX-Case: {name}\r\n\r\n | send HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok
expect-http10 | POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | body && send OK
pipelined-with-bodies | POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-Case: {name}\r\n\r\nabcPOST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Case: {name}\r\n\r\n1\r\nd\r\n0\r\n\r\n | body && send OK | answers=2
pipelined-response-close | GET /1 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok && close | answers=2
upgrade-no-key-post-body | POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 7\r\nX-Case: {name}\r\n\r\nabcdefg | body && send OK
upgrade-no-key-get-body | GET /app HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nUpgrade: foo\r\nContent-Length: 3\r\nX-Case: {name}\r\n\r\nabc | body && send OK
upgrade-no-key-put-chunked | PUT /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\nX-Case: {name}\r\n\r\n3\r\nabc\r\n0\r\n\r\n | body && send OK
upgrade-no-key-http10-body | POST /app HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | body && send OK
upgrade-with-key-and-body | POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 4\r\nX-Case: {name}\r\n\r\nbody | body && send OK
upgrade-no-key-get | GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Case: {name}\r\n\r\n | send OK
upgrade-no-key-empty-body | POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\nX-Case: {name}\r\n\r\n | send OK
upgrade-short-key | GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nX-Case: {name}\r\n\r\n | send OK
upgrade-websocket-then-other-no-key | GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\nX-Case: {name}\r\n\r\n | send OK
upgrade-other-then-websocket-no-key | GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\nX-Case: {name}\r\n\r\n | send OK
"#;

/// `\r`, `\n`, `\xHH` and `\\` in `s`, as bytes.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'r')) => out.push(b'\r'),
            (b'\\', Some(b'n')) => out.push(b'\n'),
            (b'\\', Some(b'\\')) => out.push(b'\\'),
            (b'\\', Some(b'x')) => {
                let hex = s.get(i + 2..i + 4).expect("\\x needs two hex digits");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    out
}

/// `http-request` rules that rewrite the request (frontend, then backend `b`),
/// for [`RULE_CASES`]: each applies to the paths of its cases.
const RULES: &str = r#"
 http-request replace-header X-A b Z if { path /replace-header }
 http-request replace-header X-A ^(a)(.*)$ \2-\1 if { path /replace-header-groups }
 http-request replace-value X-A b Z if { path /replace-value }
 http-request replace-value X-A ^(.)(.*)$ <\2\1> if { path /replace-value-groups }
 http-request set-path /new%[path] if { path_beg /set-path }
 http-request set-header X-Seen %[path] if { path_beg /new/set-path }
 http-request set-query a=%[path] if { path_beg /set-query }
 http-request set-query %[hdr(x-none)] if { path_beg /empty-query }
 http-request set-uri /u?x if { path_beg /set-uri }
 http-request set-uri http://new.example:81/abs%[path] if { path_beg /abs-uri }
 http-request set-method POST if { path_beg /set-method }
 http-request set-method HEAD if { path_beg /head-method }
 http-request set-method %[hdr(x-m)] if { path_beg /lf-method }
 http-request replace-path /replace-path/(.*) /R/\1 if { path_beg /replace-path }
 http-request replace-uri ^([^?]*)\?(.*)$ \1/q/\2 if { path_beg /replace-uri }
 http-request set-var(txn.h) req.hdr(x-in) if { path_beg /var }
 http-request set-var(req.n) int(42) if { path_beg /var }
 http-request set-var(sess.s) str(abc),upper if { path_beg /var }
 http-request set-var(txn.p) path if { path_beg /var }
 http-request unset-var(txn.p) if { path /var-unset }
 http-request set-var(txn.h) req.hdr(x-none) if { path_beg /var }
 http-request set-header X-V h=%[var(txn.h)]n=%[var(req.n)]s=%[var(sess.s)]p=%[var(txn.p)]u=%[var(txn.unset)] if { path_beg /var }
 use_backend b2 if { path_beg /R/ }
"#;

/// Backend `b2`'s rules: they see the frontend's edits and variables.
const BACKEND_RULES: &str = r#"
 http-request set-header X-B2 %[path]-%[var(txn.h)]-%[hdr(x-a)]
 http-request replace-value X-A ^a$ be
"#;

/// Cases for [`RULES`], in [`CASES`]'s format: what the server receives is what
/// they compare.
const RULE_CASES: &str = r#"
replace-header | GET /replace-header HTTP/1.1\r\nHost: x\r\nX-A: abc\r\nX-B: 1\r\nx-a: c, b,b\r\nX-Case: {name}\r\n\r\n | send OK
replace-header-groups | GET /replace-header-groups HTTP/1.1\r\nHost: x\r\nX-A: abc\r\nX-A: xyz, ab\r\nX-Case: {name}\r\n\r\n | send OK
replace-header-none | GET /replace-header HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
replace-value | GET /replace-value HTTP/1.1\r\nHost: x\r\nX-A: abc,  b , d\r\nX-B: 1\r\nx-a: c, b,b\r\nX-Case: {name}\r\n\r\n | send OK
replace-value-groups | GET /replace-value-groups HTTP/1.1\r\nHost: x\r\nX-A: abc,  b , d\r\nX-A: "q,r" , s\r\nX-Case: {name}\r\n\r\n | send OK
set-path | GET /set-path?q=1 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
set-path-absolute | GET http://x.com/set-path?q=1 HTTP/1.1\r\nHost: x.com\r\nX-Case: {name}\r\n\r\n | send OK
set-query | GET /set-query?q=1 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
set-query-added | GET /set-query HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
empty-query | GET /empty-query?q=1 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
empty-query-none | GET /empty-query HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
set-uri | GET /set-uri/x?y HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
abs-uri | GET /abs-uri HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
abs-uri-two-hosts | GET /abs-uri HTTP/1.1\r\nHost: x\r\nhost: y\r\nX-Case: {name}\r\n\r\n | send OK
head-method | GET /head-method HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
set-method | GET /set-method HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
lf-method | GET /lf-method HTTP/1.1\r\nHost: x\r\nX-M: PUT\r\nX-Case: {name}\r\n\r\n | send OK
replace-path | GET /replace-path/a/b?q=/replace-path/c HTTP/1.1\r\nHost: x\r\nX-A: a\r\nX-In: i\r\nX-Case: {name}\r\n\r\n | send OK
replace-uri | GET /replace-uri/a?b=c HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
replace-uri-no-match | GET /replace-uri/a HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
var | GET /var?x HTTP/1.1\r\nHost: x\r\nX-In: 1, 2\r\nX-Case: {name}\r\n\r\n | send OK
var-unset | GET /var-unset HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
"#;

/// `http-response` rules in the frontend (each picked by the case's name, which
/// the request rules keep in `txn.c`: response rules cannot read the path).
const RESPONSE_RULES: &str = r#"
 http-request set-var(txn.c) req.hdr(x-case)
 http-response set-header X-St %[status] if { var(txn.c) -m str set-header }
 http-response add-header X-M %[method]-%[res.hdr_cnt(x-a)]-%[hdr(x-a)]-%[src] if { var(txn.c) -m str add-header }
 http-response del-header X-A if { var(txn.c) -m str del-header }
 http-response replace-header X-A b Z if { var(txn.c) -m str replace-header }
 http-response replace-value X-A ^b$ Z if { var(txn.c) -m str replace-value }
 http-response set-status 299 reason "Fine Thing" if { var(txn.c) -m str set-status-reason }
 http-response set-status 404 if { var(txn.c) -m str set-status }
 http-response set-header X-After %[status] if { var(txn.c) -m beg set-status }
 http-response deny if { var(txn.c) -m str deny }
 http-response deny deny_status 503 if { var(txn.c) -m str deny-503 }
 http-response set-header X-Fe fe-%[res.hdr(x-order)] if { var(txn.c) -m beg be- }
 http-response allow if { var(txn.c) -m str allow }
 http-response add-header X-After-Allow 1 if { var(txn.c) -m str allow }
 use_backend b2 if { path_beg /R/ }
"#;

/// `http-response` rules of backend `b2`: they run before the frontend's.
const RESPONSE_BACKEND_RULES: &str = r#"
 http-response set-header X-Order be
 http-response allow if { var(txn.c) -m str be-allow }
 http-response add-header X-Be-After 1
 http-response deny if { var(txn.c) -m str be-deny }
"#;

/// Cases for [`RESPONSE_RULES`]: what the client receives is what they compare.
const RESPONSE_CASES: &str = r#"
set-header | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nX-A: abc\r\nX-A: b, c,b\r\ncontent-length: 2\r\n\r\nok
add-header | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nX-A: abc\r\nX-A: b, c,b\r\ncontent-length: 2\r\n\r\nok
del-header | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nX-A: abc\r\nX-B: 1\r\nx-a: b, c,b\r\ncontent-length: 2\r\n\r\nok
replace-header | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nX-A: abc\r\nX-B: 1\r\nx-a: b, c,b\r\ncontent-length: 2\r\n\r\nok
replace-value | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 200 OK\r\nX-A: abc\r\nX-B: 1\r\nx-a: b, c,b\r\ncontent-length: 2\r\n\r\nok
set-status-reason | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
set-status | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send HTTP/1.1 500 Oops\r\ncontent-length: 2\r\n\r\nok
deny | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
deny-503 | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
allow | GET / HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
be-order | GET /R/x HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
be-allow | GET /R/x HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
be-deny | GET /R/x HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
"#;

fn cases() -> Vec<Case> {
    let mut v = parse_cases(CASES);
    // Heads around HAProxy's size limit (15275 in h1.rs's cost model) and header count.
    for (n, big) in [(15000, false), (15226, false), (15227, true), (20000, true)] {
        let resp = format!(
            "HTTP/1.1 200 OK\r\nX-Big: {}\r\ncontent-length: 2\r\n\r\nok",
            "v".repeat(n)
        );
        v.push(generated(format!("header-of-{n}"), resp, big));
    }
    // Bodies larger than a buffer, with a length and chunked.
    let big_body = "0123456789abcdef".repeat(12 * 1024);
    let resp = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{big_body}",
        big_body.len()
    );
    v.push(generated("large-body".into(), resp, false));
    let chunks: String = (0..300)
        .map(|i| format!("{:x}\r\n{}\r\n", i + 1, "x".repeat(i + 1)))
        .collect();
    let resp = format!("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{chunks}0\r\n\r\n");
    v.push(generated("many-chunks".into(), resp, false));
    for (n, many) in [(99, false), (100, true), (101, true)] {
        let h: String = (0..n).map(|i| format!("X-{i}: a\r\n")).collect();
        let resp = format!("HTTP/1.1 200 OK\r\n{h}content-length: 2\r\n\r\nok");
        v.push(generated(format!("{n}-headers"), resp, many));
    }
    v
}

/// The cases of `text` (see [`CASES`]).
fn parse_cases(text: &str) -> Vec<Case> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(" | ").collect();
            let name = f[0].to_string();
            let request = match f[1] {
                "GET" => format!("GET /{name} HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n"),
                r => String::from_utf8_lossy(&unescape(r)).replace("{name}", &name),
            };
            let script = f[2]
                .split(" && ")
                .map(|step| match step.split_once(' ') {
                    _ if step == "send OK" => Step::Send(OK.to_vec()),
                    Some(("send", b)) => Step::Send(unescape(b)),
                    Some(("pause", ms)) => Step::Pause(ms.parse().expect("pause MS")),
                    None if step == "body" => Step::Body,
                    None if step == "close" => Step::Close,
                    _ => panic!("{name}: bad step {step:?}"),
                })
                .collect();
            let mut case = Case::new(name, request.into_bytes(), script);
            match f.get(3).map(|o| o.split_once('=').unwrap_or((o, ""))) {
                None => {}
                Some(("answers", n)) => case.answers = n.parse().expect("answers=N"),
                Some(("known", start)) => case.known = Some(unescape(start)),
                Some(("then", bytes)) => case.then = Some(unescape(bytes)),
                Some(("half-close", "")) => case.half_close = true,
                Some(other) => panic!("{}: bad option {other:?}", case.name),
            }
            case
        })
        .collect()
}

/// A plain GET answered `resp`; the origin closes after it when `close`.
fn generated(name: String, resp: String, close: bool) -> Case {
    let mut script = vec![Step::Send(resp.into_bytes())];
    if close {
        script.push(Step::Close);
    }
    let request = format!("GET /{name} HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n");
    Case::new(name, request.into_bytes(), script)
}

impl Case {
    /// One request, one answer expected, no options.
    fn new(name: String, request: Vec<u8>, script: Vec<Step>) -> Case {
        Case {
            request,
            answers: 1,
            half_close: false,
            then: None,
            script,
            known: None,
            name,
        }
    }
}

/// What the origin received, per request: (case, head and body bytes).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// How many scripts the origin is playing now (the test waits for none before it
/// reads [`Received`]).
type Playing = Arc<AtomicUsize>;

/// The scripted origin: for each request head it reads, plays the script named by the
/// request's `X-Case` header (without one: answers `200 ok`).
fn start_origin(scripts: BTreeMap<String, Vec<Step>>) -> (u16, Received, Playing) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind origin");
    let port = listener.local_addr().expect("origin addr").port();
    let received: Received = Arc::default();
    let playing: Playing = Arc::default();
    let scripts = Arc::new(scripts);
    {
        let (received, playing) = (received.clone(), playing.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (scripts, received) = (scripts.clone(), received.clone());
                let playing = playing.clone();
                std::thread::spawn(move || serve(conn, &scripts, &received, &playing));
            }
        });
    }
    (port, received, playing)
}

/// Counts a script as played while it lives.
struct PlayingGuard<'a>(&'a AtomicUsize);

impl<'a> PlayingGuard<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        PlayingGuard(n)
    }
}

impl Drop for PlayingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve(
    mut conn: TcpStream,
    scripts: &BTreeMap<String, Vec<Step>>,
    received: &Received,
    playing: &AtomicUsize,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let mut fill = |conn: &mut TcpStream, buf: &mut Vec<u8>| -> bool {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    };
    loop {
        let end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            if !fill(&mut conn, &mut buf) {
                return;
            }
        };
        let head: Vec<u8> = buf.drain(..end).collect();
        let _playing = PlayingGuard::new(playing);
        let text = String::from_utf8_lossy(&head).into_owned();
        let case = header(&text, "x-case").unwrap_or("").to_string();
        let ok = vec![Step::Body, Step::Send(OK.to_vec())];
        let script = scripts.get(&case).unwrap_or(&ok);
        let mut record = head;
        for step in script {
            match step {
                Step::Body => {
                    if header(&text, "transfer-encoding").is_some() {
                        // Up to the empty line after the last chunk (and trailers).
                        let end = loop {
                            let last = find(&buf, b"\r\n0\r\n").map(|p| p + 2);
                            let last = last.or(buf.starts_with(b"0\r\n").then_some(0));
                            if let Some(p) = last
                                && let Some(e) = find(&buf[p + 1..], b"\r\n\r\n")
                            {
                                break p + 1 + e + 4;
                            }
                            if !fill(&mut conn, &mut buf) {
                                break buf.len();
                            }
                        };
                        record.extend(buf.drain(..end));
                    } else {
                        let n: usize = header(&text, "content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < n && fill(&mut conn, &mut buf) {}
                        record.extend(buf.drain(..n.min(buf.len())));
                    }
                }
                Step::Send(b) => {
                    let _ = conn.write_all(b);
                }
                Step::Pause(ms) => std::thread::sleep(Duration::from_millis(*ms)),
                Step::Close => {
                    received.lock().expect("received").push((case, record));
                    let _ = conn.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
        received.lock().expect("received").push((case, record));
    }
}

/// What the client saw: every head (interim ones included) byte for byte, each body,
/// and how the connection ended.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    parts: Vec<String>,
    end: String,
}

/// One final answer (after any interim ones); `false` when the connection ended.
fn answer(r: &mut Reader<TcpStream>, head_request: bool, parts: &mut Vec<String>) -> bool {
    let head = loop {
        let Some(head) = r.head() else {
            let left = std::mem::take(&mut r.buf);
            if !left.is_empty() {
                parts.push(format!("partial: {:?}", String::from_utf8_lossy(&left)));
            }
            return false;
        };
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        parts.push(head);
        if !(100..200).contains(&status) || status == 101 {
            break (
                head_request || matches!(status, 101 | 204 | 304),
                parts.len() - 1,
            );
        }
    };
    let (no_body, i) = head;
    let head = parts[i].clone();
    if head.get(9..12) == Some("101") {
        // A tunnel: whatever comes until the close (however it is cut in packets).
        let b = r.rest();
        parts.push(format!(
            "tunnel until close: {:?}",
            String::from_utf8_lossy(&b)
        ));
        return false;
    }
    let body = if no_body {
        Some(Vec::new())
    } else if header(&head, "transfer-encoding").is_some() {
        // Decoded: how a proxy cuts the data into chunks depends on when it arrives.
        match chunked_text(r) {
            Some(b) => {
                parts.push(format!("chunked body: {b:?}"));
                return true;
            }
            None => None,
        }
    } else if let Some(n) = header(&head, "content-length").and_then(|v| v.parse().ok()) {
        r.take(n)
    } else {
        let b = r.rest();
        parts.push(format!(
            "body until close: {:?}",
            String::from_utf8_lossy(&b)
        ));
        return false;
    };
    match body {
        Some(b) => {
            parts.push(format!("body: {:?}", String::from_utf8_lossy(&b)));
            true
        }
        None => {
            let b = std::mem::take(&mut r.buf);
            parts.push(format!("cut body: {:?}", String::from_utf8_lossy(&b)));
            false
        }
    }
}

/// A chunked body as text, its trailers after it.
fn chunked_text(r: &mut Reader<TcpStream>) -> Option<String> {
    let (data, trailers) = r.chunked()?;
    let mut out = String::from_utf8_lossy(&data).into_owned();
    for t in trailers {
        out.push_str(&format!(" [trailer {t}]"));
    }
    Some(out)
}

fn run_client(addr: SocketAddr, case: &Case) -> Seen {
    let s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => {
            return Seen {
                parts: Vec::new(),
                end: format!("connect: {e}"),
            };
        }
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(4)));
    let mut r = Reader::new(s);
    let _ = r.s.write_all(&case.request);
    if case.half_close {
        let _ = r.s.shutdown(Shutdown::Write);
    }
    let head_request = case.request.starts_with(b"HEAD ");
    let mut parts = Vec::new();
    if let Some(then) = &case.then {
        // An interim head is kept; a final one goes back to be read as the answer.
        match r.head() {
            Some(h) if h.get(9..10) == Some("1") => parts.push(h),
            Some(h) => r.buf.splice(0..0, h.into_bytes()).for_each(drop),
            None => parts.push("no first head".into()),
        }
        let _ = r.s.write_all(then);
    }
    let mut open = true;
    for _ in 0..case.answers {
        if !answer(&mut r, head_request, &mut parts) {
            open = false;
            break;
        }
    }
    if open && !r.buf.is_empty() {
        parts.push(format!("extra: {:?}", String::from_utf8_lossy(&r.buf)));
        r.buf.clear();
    }
    let end = if !open {
        r.eof.clone().unwrap_or_else(|| "closed".into())
    } else if case.half_close {
        // Nothing more to send: the proxy closes, or stays silent.
        let rest = r.rest();
        format!("{} after {rest:?}", r.eof.clone().unwrap_or_default())
    } else {
        // Is the connection still usable? A second request tells.
        let _ = r.s.write_all(b"GET /probe HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut probe = Vec::new();
        if answer(&mut r, false, &mut probe) {
            format!("open, a second request is answered: {:?}", probe.first())
        } else {
            format!(
                "{} (second request: {probe:?})",
                r.eof.clone().unwrap_or_default()
            )
        }
    };
    Seen { parts, end }
}

type Edge = (tokio::runtime::Runtime, Running, SocketAddr);

fn wtedge_for(hap: &Haproxy, engine: EngineChoice) -> Edge {
    let e = common::wtedge_beside(
        hap,
        "responses.cfg",
        Logger::none(),
        engine,
        Duration::from_millis(200),
    )
    .unwrap_or_else(|e| panic!("wtedge: {e}"));
    (e.rt, e.running, e.addrs[0].1)
}

/// Runs every case through HAProxy and wtedge on `options` (lines for `defaults`).
fn compare(options: &str) {
    // Routing is not what this test is about: the native engine starts faster.
    compare_with(options, "", "", cases(), EngineChoice::Native);
}

/// Runs `cases` through HAProxy and wtedge on `options`, with `rules` in the
/// frontend and `be_rules` in backend `b2` (which takes the `/R/` paths).
fn compare_with(
    options: &str,
    rules: &str,
    be_rules: &str,
    cases: Vec<Case>,
    engine: EngineChoice,
) {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let filter = std::env::var("WTEDGE_CASE").unwrap_or_default();
    let scripts = cases
        .iter()
        .map(|c| (c.name.to_string(), c.script.clone()))
        .collect();
    let (port, received, playing) = start_origin(scripts);
    let cfg = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 3s\n timeout server 1s\n{options}\
         frontend fe\n bind 127.0.0.1:1\n{rules} default_backend b\nbackend b\n server s1 127.0.0.1:9\n\
         backend b2\n{be_rules} server s2 127.0.0.1:9\n"
    );
    let hap =
        Haproxy::start_with(&cfg, false, &|_, _| Some(port)).unwrap_or_else(|e| panic!("{e}"));
    let (rt, edge, edge_addr) = wtedge_for(&hap, engine);
    let hap_addr = hap.frontend_addr(None).unwrap_or_else(|e| panic!("{e}"));
    let mut diffs = Vec::new();
    let mut n = 0;
    for case in cases.iter().filter(|c| c.name.contains(&filter)) {
        n += 1;
        let mut seen = Vec::new();
        for addr in [hap_addr, edge_addr] {
            received.lock().expect("received").clear();
            let client = run_client(addr, case);
            // The origin finishes its scripts (a pause, a close) first.
            for _ in 0..500 {
                std::thread::sleep(Duration::from_millis(10));
                if playing.load(Ordering::SeqCst) == 0 {
                    break;
                }
            }
            let at_origin = std::mem::take(&mut *received.lock().expect("received"));
            // Sorted: requests on different server connections end in any order.
            let mut at_origin: Vec<String> = at_origin
                .iter()
                .map(|(c, b)| format!("{c}: {:?}", String::from_utf8_lossy(b)))
                .collect();
            at_origin.sort();
            seen.push((client, at_origin));
        }
        let (h, w) = (&seen[0], &seen[1]);
        if let Some(text) = &case.known {
            let text = String::from_utf8_lossy(text);
            let first = h.0.parts.first().cloned().unwrap_or_default();
            if !first.contains(&*text) {
                diffs.push(format!(
                    "{} (known difference, README.md): haproxy's answer {first:?} no longer holds {text:?}",
                    case.name,
                ));
            }
            continue;
        }
        if h != w {
            let short = |s: String| -> String {
                if s.len() > 600 {
                    format!("{}...({} bytes)", &s[..s.floor_char_boundary(600)], s.len())
                } else {
                    s
                }
            };
            diffs.push(format!(
                "{}:\n  haproxy: {}\n           origin {}\n  wtedge:  {}\n           origin {}",
                case.name,
                short(format!("{:?}", h.0)),
                short(format!("{:?}", h.1)),
                short(format!("{:?}", w.0)),
                short(format!("{:?}", w.1))
            ));
        }
    }
    rt.block_on(edge.stop());
    eprintln!("{n} cases compared with `{}`", options.trim());
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn server_close_answers_as_haproxy() {
    compare(" option http-server-close\n");
}

#[test]
fn keep_alive_answers_as_haproxy() {
    compare("");
}

/// `http-request` rewrites (headers, request line, variables): what the server
/// receives is HAProxy's.
#[test]
fn request_rewrites_as_haproxy() {
    let rules = RULES.trim_start_matches('\n');
    let be = BACKEND_RULES.trim_start_matches('\n');
    compare_with(
        " option http-server-close\n",
        rules,
        be,
        parse_cases(RULE_CASES),
        EngineChoice::Native,
    );
}

/// `http-response` rules (headers, status, allow, deny; the backend's before
/// the frontend's): what the client receives is HAProxy's.
#[test]
fn response_rules_as_haproxy() {
    compare_with(
        " option http-server-close\n",
        RESPONSE_RULES.trim_start_matches('\n'),
        RESPONSE_BACKEND_RULES.trim_start_matches('\n'),
        parse_cases(RESPONSE_CASES),
        // The wasm module: the request rules' variables cross its ABI.
        EngineChoice::EmbeddedWasm,
    );
}

#[test]
fn pretend_keepalive_answers_as_haproxy() {
    compare(" option http-server-close\n option http-pretend-keepalive\n");
}

/// Debian's `errorfile` lines (HTTP/1.0 pages with `Connection: close`), and a
/// backend's own HTTP/1.1 page without a length, for the errors of [`ERRORFILE_CASES`].
const ERRORFILES: &[(&str, &str)] = &[
    (
        "400",
        "HTTP/1.0 400 Bad request\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request (file)</h1>\n</body></html>\n",
    ),
    (
        "403",
        "HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>403 Forbidden (file)</h1>\n</body></html>\n",
    ),
    (
        "502",
        "HTTP/1.0 502 Bad Gateway\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway (file)</h1>\n</body></html>\n",
    ),
    (
        "503",
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>503 (file)</h1>\n</body></html>\n",
    ),
    (
        "504",
        "HTTP/1.0 504 Gateway Time-out\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>504 (file)</h1>\n</body></html>\n",
    ),
    (
        "429",
        "HTTP/1.1 429 Slow Down\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nwait\n",
    ),
    (
        "b2-502",
        "HTTP/1.1 502 Backend Two\r\nX-Mixed-Case: Yes\r\n\r\nb2's page\n",
    ),
];

/// Requests that end in each error, in [`CASES`]'s format.
const ERRORFILE_CASES: &str = r#"
deny-403 | GET /deny HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
deny-status-503 | GET /deny503 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
deny-status-429-kept-alive | GET /deny429 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
no-server-503 | GET /N/x HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
garbage-502 | GET | send garbage\r\n\r\n && close
timeout-504 | GET | pause 1500
backend-page-502 | GET /R/x HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send garbage\r\n\r\n && close
deny-status-400 | GET /deny400 HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
unparsable-400-builtin | GET /a b c HTTP/1.1\r\nHost: x\r\nX-Case: {name}\r\n\r\n | send OK
"#;

/// `errorfile` in defaults and in a backend: the page HAProxy 2.6 sends instead
/// of its own, byte for byte, for 400 and 503 (`deny_status`), 403 (`deny`), 503
/// (no server), 502 and 504; the backend's page wins over the inherited one; an
/// HTTP/1.1 page with a length keeps the connection open (`deny_status 429`). A
/// request HAProxy cannot parse still gets its built-in 400 (its mux ignores errorfiles).
#[test]
fn errorfiles_answer_as_haproxy() {
    let dir = haproxy::TempDir::new("errorfiles").unwrap_or_else(|e| panic!("{e}"));
    let path = |n: &str| dir.path().join(format!("{n}.http"));
    for (n, text) in ERRORFILES {
        std::fs::write(path(n), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut defaults = String::from(" option http-server-close\n");
    for n in ["400", "403", "429", "502", "503", "504"] {
        defaults.push_str(&format!(" errorfile {n} {}\n", path(n).display()));
    }
    // A backend without servers, before the frontend (it takes the `/N/` paths).
    defaults.push_str("backend nosrv\n");
    let rules = " http-request deny deny_status 429 if { path_beg /deny429 }\n http-request deny deny_status 400 if { path_beg /deny400 }\n http-request deny deny_status 503 if { path_beg /deny503 }\n http-request deny if { path_beg /deny }\n use_backend nosrv if { path_beg /N/ }\n use_backend b2 if { path_beg /R/ }\n";
    let be = format!(" errorfile 502 {}\n", path("b2-502").display());
    compare_with(
        &defaults,
        rules,
        &be,
        parse_cases(ERRORFILE_CASES),
        EngineChoice::Native,
    );
}
