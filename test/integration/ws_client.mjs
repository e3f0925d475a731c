// WebSocket client for test/integration/websocket_echo.sh, on the npm package `ws`: sends 100
// messages alternating text and binary (UTF-8 text, a 1 MiB binary, an empty text, a large
// multi-byte text split across frames), checks each echo's type and bytes, then closes with
// 1000 and checks the close is clean. Exits 0 on success, 1 on any mismatch or error.
// Usage: node ws_client.mjs <ws-url> <directory holding node_modules/ws>
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const [url, cache] = process.argv.slice(2);
if (!url || !cache) {
  console.error('usage: node ws_client.mjs <ws-url> <ws package prefix>');
  process.exit(2);
}
const require = createRequire(join(cache, 'package.json'));
const WebSocket = require('ws');

function fail(message) {
  console.error(`ws_client: FAIL: ${message}`);
  process.exit(1);
}
const watchdog = setTimeout(() => fail('no result within 120 s'), 120_000);

// The messages: even indices text, odd ones binary.
const utf8Text = 'héllo wörld — ✓ 日本語 🚀 Ω≈ç√';
const messages = [];
for (let i = 0; i < 100; ++i) {
  if (i % 2 === 0) {
    let text = `message ${i}`;
    if (i === 0) text = utf8Text;
    if (i === 10) text = '';
    if (i === 20) text = utf8Text.repeat(8000); // ~300 KB, code points cut by frame edges
    messages.push({ binary: false, data: text });
  } else {
    let size = 1 + ((i * 37) % 200);
    if (i === 51) size = 1024 * 1024;
    const data = randomBytes(size);
    if (i === 3) data[0] = 0xff; // never valid UTF-8: must not be taken for text
    messages.push({ binary: true, data });
  }
}

const ws = new WebSocket(url);
let index = 0;
let bytes = 0;

function sendNext() {
  const m = messages[index];
  ws.send(m.data, { binary: m.binary });
}

ws.on('error', (err) => fail(`socket error: ${err.message}`));
ws.on('open', sendNext);
ws.on('message', (data, isBinary) => {
  const m = messages[index];
  if (m === undefined) fail(`unexpected message after the last one (${data.length} bytes)`);
  if (isBinary !== m.binary)
    fail(`message ${index}: sent ${m.binary ? 'binary' : 'text'}, got ${isBinary ? 'binary' : 'text'}`);
  const expected = m.binary ? m.data : Buffer.from(m.data, 'utf8');
  if (!Buffer.isBuffer(data) || !data.equals(expected))
    fail(`message ${index}: ${expected.length} bytes sent, ${data.length} different bytes back`);
  if (!m.binary && data.toString('utf8') !== m.data) fail(`message ${index}: text differs`);
  bytes += expected.length;
  if (++index < messages.length) sendNext();
  else ws.close(1000, 'done');
});
ws.addEventListener('close', (event) => {
  clearTimeout(watchdog);
  if (index !== messages.length) fail(`closed after ${index} of ${messages.length} echoes`);
  if (event.code !== 1000) fail(`close code ${event.code}, expected 1000`);
  if (!event.wasClean) fail('the close was not clean');
  console.log(`ws_client: ${index} messages (${bytes} bytes) echoed, closed with 1000 cleanly`);
  process.exit(0);
});
