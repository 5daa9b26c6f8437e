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
const SECS = Number(process.env.ROUND_SECS || 2);

function message300() {
  const head = `<xml><ToUserName><![CDATA[${CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[`;
  const tail = ']]></Content><MsgId>4561255354251345929</MsgId><AgentID>218</AgentID></xml>';
  return head + 'x'.repeat(300 - head.length - tail.length) + tail;
}

function replyXml() {
  return `<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[${CORP}]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${'x'.repeat(100)}]]></Content></xml>`;
}

// Best operations per second of fn over 100 ms windows during `seconds` (a busy shared
// machine disturbs the best window least), after a warm-up.
function opsPerSecond(fn, seconds) {
  for (let i = 0; i < 20000; i++) fn();
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let best = 0;
  while (process.hrtime.bigint() < end) {
    const start = process.hrtime.bigint();
    let n = 0;
    let elapsed = 0n;
    while (elapsed < 100000000n) {
      for (let i = 0; i < 256; i++) fn();
      n += 256;
      elapsed = process.hrtime.bigint() - start;
    }
    best = Math.max(best, n / (Number(elapsed) / 1e9));
  }
  return best;
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
  // The same delivery with parsing: the envelope's Encrypt and the message's fields pulled
  // out with (precompiled) regular expressions, the least a JS server would do.
  const body = `<xml><ToUserName><![CDATA[${CORP}]]></ToUserName><AgentID><![CDATA[218]]></AgentID><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
  const patterns = new Map();
  const field = (xml, name) => {
    let re = patterns.get(name);
    if (!re) {
      re = new RegExp(`<${name}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${name}>`);
      patterns.set(name, re);
    }
    const m = re.exec(xml);
    return m ? (m[1] !== undefined ? m[1] : m[2]) : undefined;
  };
  const verifyDecryptParse = () => {
    const enc = field(body, 'Encrypt');
    if (wecom.getSignature(TOKEN, TS, NONCE, enc) !== signature) throw new Error('signature');
    const { message, id } = wecom.decrypt(KEY, enc);
    if (id !== CORP) throw new Error('receive id');
    const parsed = {
      toUserName: field(message, 'ToUserName'),
      fromUserName: field(message, 'FromUserName'),
      createTime: Number(field(message, 'CreateTime')),
      msgType: field(message, 'MsgType'),
      content: field(message, 'Content'),
      msgId: field(message, 'MsgId'),
      agentId: Number(field(message, 'AgentID')),
    };
    if (parsed.msgType !== 'text' || parsed.content.length === 0) throw new Error('parse');
    return parsed;
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
    verify_decrypt: opsPerSecond(verifyDecrypt, SECS),
    verify_decrypt_parse: opsPerSecond(verifyDecryptParse, SECS),
    encrypt_sign: opsPerSecond(encryptSign, SECS),
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

// Best of each operation over the rounds (files of JSON objects, one per round).
function bestOf(files) {
  const best = {};
  for (const f of files) {
    const r = JSON.parse(fs.readFileSync(f, 'utf8'));
    for (const [k, v] of Object.entries(r)) best[k] = Math.max(best[k] || 0, v);
  }
  return best;
}

function report(criterionDir, roundsDir) {
  const files = fs.readdirSync(roundsDir).map((f) => path.join(roundsDir, f));
  const js = bestOf(files.filter((f) => f.endsWith('.js.json')));
  const rust = bestOf(files.filter((f) => f.endsWith('.rust.json')));
  const raw = (name) => criterionOpsPerSecond(criterionDir, 'raw', name) * 16 * 1024;
  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12);
  const gb = (n) => `${(n / 1e9).toFixed(2)} GB/s`;
  const rounds = files.filter((f) => f.endsWith('.js.json')).length;
  console.log(`one core; 300-byte message; operations per second (best 100 ms window, ${rounds} alternating rounds)`);
  console.log(`                           wecom-callback  @wecom/crypto   ratio`);
  console.log(`verify+decrypt            ${fmt(rust.verify_decrypt)}  ${fmt(js.verify_decrypt)}   ${(rust.verify_decrypt / js.verify_decrypt).toFixed(1)}x`);
  console.log(`verify+decrypt+parse      ${fmt(rust.verify_decrypt_parse)}  ${fmt(js.verify_decrypt_parse)}   ${(rust.verify_decrypt_parse / js.verify_decrypt_parse).toFixed(1)}x  (theirs: regex field extraction)`);
  console.log(`  ours with parsing vs theirs without: ${(rust.verify_decrypt_parse / js.verify_decrypt).toFixed(1)}x`);
  console.log(`encrypt+sign (reply)      ${fmt(rust.encrypt_sign)}  ${fmt(js.encrypt_sign)}   ${(rust.encrypt_sign / js.encrypt_sign).toFixed(1)}x`);
  const aesDec = raw('aes256cbc_decrypt_16k');
  const aesEnc = raw('aes256cbc_encrypt_16k');
  const sha = raw('sha1_16k');
  console.log('');
  console.log('machine limits (16 KiB buffers, criterion medians): Rust crates / node (OpenSSL)');
  console.log(`AES-256-CBC decrypt  ${gb(aesDec)} / ${gb(js.node_aes256cbc_decrypt_bytes_per_s)}`);
  console.log(`AES-256-CBC encrypt  ${gb(aesEnc)}`);
  console.log(`SHA-1                ${gb(sha)} / ${gb(js.node_sha1_bytes_per_s)}`);
  // The floor for one 300-byte delivery: decrypt 352 bytes + hash ~460 bytes of signature input.
  const floorNs = (352 / aesDec + 460 / sha) * 1e9;
  const oursNs = 1e9 / rust.verify_decrypt;
  console.log(`bulk-speed floor for verify+decrypt of one message: ${floorNs.toFixed(0)} ns (${fmt(1e9 / floorNs).trim()} per second);`
    + ` ours takes ${oursNs.toFixed(0)} ns, ${(oursNs / floorNs).toFixed(1)}x the floor (the rest: base64, per-call set-up, allocation)`);
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
