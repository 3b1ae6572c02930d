// A minimal zip reader for tests: the central directory's entries with
// their stored (method 0) or deflated (method 8) bytes, general-purpose
// flags and extra fields (central and local: {id: Buffer}).
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

export function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  assert.ok(eocd >= 0, 'end of central directory found');
  let count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  if (off === 0xffffffff || count === 0xffff) { // zip64
    const loc = eocd - 20;
    assert.equal(buf.readUInt32LE(loc), 0x07064b50, 'zip64 locator');
    const z = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(z + 32));
    off = Number(buf.readBigUInt64LE(z + 48));
  }
  const entries = [];
  for (let k = 0; k < count; k++) {
    assert.equal(buf.readUInt32LE(off), 0x02014b50, 'central directory entry');
    const flags = buf.readUInt16LE(off + 8), method = buf.readUInt16LE(off + 10);
    let csize = buf.readUInt32LE(off + 20), usize = buf.readUInt32LE(off + 24);
    const nlen = buf.readUInt16LE(off + 28), xlen = buf.readUInt16LE(off + 30), clen = buf.readUInt16LE(off + 32);
    let local = buf.readUInt32LE(off + 42);
    const name = buf.subarray(off + 46, off + 46 + nlen).toString('utf8');
    let x = off + 46 + nlen;
    const xend = x + xlen;
    const extras = fields(buf.subarray(x, xend));
    while (x + 4 <= xend) { // zip64 extra field
      const id = buf.readUInt16LE(x), len = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let p = x + 4;
        if (usize === 0xffffffff) { usize = Number(buf.readBigUInt64LE(p)); p += 8; }
        if (csize === 0xffffffff) { csize = Number(buf.readBigUInt64LE(p)); p += 8; }
        if (local === 0xffffffff) { local = Number(buf.readBigUInt64LE(p)); p += 8; }
      }
      x += 4 + len;
    }
    assert.equal(buf.readUInt32LE(local), 0x04034b50, 'local header');
    const lnlen = buf.readUInt16LE(local + 26), lxlen = buf.readUInt16LE(local + 28);
    const local_ = { flags: buf.readUInt16LE(local + 6), crc: buf.readUInt32LE(local + 14),
      name: buf.subarray(local + 30, local + 30 + lnlen), extras: fields(buf.subarray(local + 30 + lnlen, local + 30 + lnlen + lxlen)) };
    const start = local + 30 + lnlen + lxlen;
    const raw = buf.subarray(start, start + csize);
    const data = method === 0 ? raw : zlib.inflateRawSync(raw);
    assert.equal(data.length, usize, `${name}: size`);
    entries.push({ name, rawName: buf.subarray(off + 46, off + 46 + nlen), method, data, flags, extras,
      crc: buf.readUInt32LE(off + 16), local: local_ });
    off += 46 + nlen + xlen + clen;
  }
  return entries;
}

// Extra fields as a Map of header id -> data.
function fields(b) {
  const m = new Map();
  for (let x = 0; x + 4 <= b.length;) {
    const id = b.readUInt16LE(x), len = b.readUInt16LE(x + 2);
    m.set(id, b.subarray(x + 4, x + 4 + len));
    x += 4 + len;
  }
  return m;
}
