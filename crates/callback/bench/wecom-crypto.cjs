// Runs the same work as benches/crypto.rs with the official npm package @wecom/crypto, and
// checks interoperability. Called by compare.sh from a temp dir where the package is installed.
//
//   node wecom-crypto.cjs interop ours.json   checks our ciphertexts, prints theirs as JSON
//   node wecom-crypto.cjs bench               prints {verify_decrypt, encrypt_sign} in ops/s
//   node wecom-crypto.cjs report CRITERION_DIR js.json   prints the comparison table
'use strict';
const fs = require('fs');
const path = require('path');
const nodeCrypto = require('crypto');

const TOKEN = 'QDG6eK';
const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CORP = 'wx5823bf96d3bd56c7';
const TS = '1409659813';
const NONCE = '1372623149';

function message300() {
  const head = `<xml><ToUserName><![CDATA[${CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[`;
  const tail = ']]></Content><MsgId>4561255354251345929</MsgId><AgentID>218</AgentID></xml>';
  return head + 'x'.repeat(300 - head.length - tail.length) + tail;
}

function replyXml() {
  return `<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[${CORP}]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${'x'.repeat(100)}]]></Content></xml>`;
}

// Operations per second of fn, measured for about `seconds` after a warm-up.
function opsPerSecond(fn, seconds) {
  for (let i = 0; i < 20000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

function bench(wecom) {
  const msg = message300();
  const encrypted = wecom.encrypt(KEY, msg, CORP);
  const signature = wecom.getSignature(TOKEN, TS, NONCE, encrypted);
  const verifyDecrypt = () => {
    if (wecom.getSignature(TOKEN, TS, NONCE, encrypted) !== signature) throw new Error('signature');
    const { message, id } = wecom.decrypt(KEY, encrypted);
    if (id !== CORP || message.length !== 300) throw new Error('decrypt');
  };
  const reply = replyXml();
  const encryptSign = () => {
    const enc = wecom.encrypt(KEY, reply, CORP);
    const sig = wecom.getSignature(TOKEN, TS, NONCE, enc);
    // The same reply XML our seal_reply builds.
    return `<xml><Encrypt><![CDATA[${enc}]]></Encrypt><MsgSignature><![CDATA[${sig}]]></MsgSignature><TimeStamp>${TS}</TimeStamp><Nonce><![CDATA[${NONCE}]]></Nonce></xml>`;
  };
  // Raw primitives in node (OpenSSL underneath), 16 KiB like the Rust bench.
  const key = Buffer.alloc(32, 7);
  const iv = Buffer.alloc(16, 9);
  const buf = Buffer.alloc(16 * 1024);
  const aesDecrypt = () => {
    const d = nodeCrypto.createDecipheriv('aes-256-cbc', key, iv);
    d.setAutoPadding(false);
    d.update(buf);
    d.final();
  };
  const sha1 = () => nodeCrypto.createHash('sha1').update(buf).digest();
  return {
    verify_decrypt: opsPerSecond(verifyDecrypt, 3),
    encrypt_sign: opsPerSecond(encryptSign, 3),
    node_aes256cbc_decrypt_bytes_per_s: opsPerSecond(aesDecrypt, 1) * buf.length,
    node_sha1_bytes_per_s: opsPerSecond(sha1, 1) * buf.length,
  };
}

function interop(wecom, oursFile) {
  const ours = JSON.parse(fs.readFileSync(oursFile, 'utf8'));
  let ok = 0;
  for (const c of ours.cases) {
    const sig = wecom.getSignature(TOKEN, c.timestamp, c.nonce, c.encrypt);
    const { message, id } = wecom.decrypt(KEY, c.encrypt);
    if (sig === c.msg_signature && message === c.plaintext && id === CORP) ok += 1;
  }
  process.stderr.write(`@wecom/crypto decrypted ${ok} of ${ours.cases.length} messages made by wecom-callback\n`);
  if (ok !== ours.cases.length || ok === 0) process.exit(1);
  const alphabet = ['a', 'Z', '0', ' ', '<', '>', '&', '\n', 'é', '你', '好', '🙂', ']'];
  const cases = [];
  for (let i = 0; i < ours.cases.length; i++) {
    const len = Math.floor(Math.random() * 1500);
    let plaintext = '';
    for (let j = 0; j < len; j++) plaintext += alphabet[Math.floor(Math.random() * alphabet.length)];
    const timestamp = String(1700000000 + i);
    const nonce = String(Math.floor(Math.random() * 1e9));
    const encrypt = wecom.encrypt(KEY, plaintext, CORP);
    cases.push({ timestamp, nonce, encrypt, msg_signature: wecom.getSignature(TOKEN, timestamp, nonce, encrypt), plaintext });
  }
  process.stdout.write(JSON.stringify({ cases }));
}

function criterionOpsPerSecond(dir, group, name) {
  const file = path.join(dir, group, name, 'new', 'estimates.json');
  const est = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Median time per iteration in ns.
  return 1e9 / est.median.point_estimate;
}

function report(criterionDir, jsFile) {
  const js = JSON.parse(fs.readFileSync(jsFile, 'utf8'));
  const rust = {
    verify_decrypt: criterionOpsPerSecond(criterionDir, 'callback', 'verify_decrypt'),
    verify_decrypt_parse: criterionOpsPerSecond(criterionDir, 'callback', 'verify_decrypt_parse'),
    encrypt_sign: criterionOpsPerSecond(criterionDir, 'callback', 'encrypt_sign'),
  };
  const raw = (name) => criterionOpsPerSecond(criterionDir, 'raw', name) * 16 * 1024;
  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12);
  const gb = (n) => `${(n / 1e9).toFixed(2)} GB/s`;
  console.log('one core; 300-byte message; ops per second (median)');
  console.log(`                           wecom-callback  @wecom/crypto   ratio`);
  console.log(`verify+decrypt            ${fmt(rust.verify_decrypt)}  ${fmt(js.verify_decrypt)}   ${(rust.verify_decrypt / js.verify_decrypt).toFixed(1)}x`);
  console.log(`verify+decrypt+parse      ${fmt(rust.verify_decrypt_parse)}  ${fmt(js.verify_decrypt)}   ${(rust.verify_decrypt_parse / js.verify_decrypt).toFixed(1)}x  (theirs does not parse)`);
  console.log(`encrypt+sign (reply)      ${fmt(rust.encrypt_sign)}  ${fmt(js.encrypt_sign)}   ${(rust.encrypt_sign / js.encrypt_sign).toFixed(1)}x`);
  const aesDec = raw('aes256cbc_decrypt_16k');
  const aesEnc = raw('aes256cbc_encrypt_16k');
  const sha = raw('sha1_16k');
  console.log('');
  console.log('machine limits (16 KiB buffers): Rust crates / node (OpenSSL)');
  console.log(`AES-256-CBC decrypt  ${gb(aesDec)} / ${gb(js.node_aes256cbc_decrypt_bytes_per_s)}`);
  console.log(`AES-256-CBC encrypt  ${gb(aesEnc)}`);
  console.log(`SHA-1                ${gb(sha)} / ${gb(js.node_sha1_bytes_per_s)}`);
  // The floor for one 300-byte delivery: decrypt 352 bytes + hash ~520 bytes of signature input.
  const floorNs = (352 / aesDec + 520 / sha) * 1e9;
  console.log(`bulk-speed floor for verify+decrypt of one message: ${floorNs.toFixed(0)} ns = ${fmt(1e9 / floorNs).trim()} per second;`
    + ` ours is ${(1e9 / rust.verify_decrypt).toFixed(0)} ns (${((1e9 / floorNs) / rust.verify_decrypt).toFixed(1)}x the floor; the rest is per-call fixed cost)`);
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'report') {
  report(a, b);
} else {
  const wecom = require('@wecom/crypto');
  if (cmd === 'bench') process.stdout.write(JSON.stringify(bench(wecom)));
  else if (cmd === 'interop') interop(wecom, a);
  else { console.error('usage: bench | interop ours.json | report criterion_dir js.json'); process.exit(2); }
}
