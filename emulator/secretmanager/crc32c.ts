// CRC-32C (Castagnoli), the checksum Secret Manager keeps for every payload (`dataCrc32c`, sent as
// a decimal int64 string). Node's zlib.crc32 is the IEEE polynomial, not this one.
const POLY = 0x82f63b78; // reflected 0x1EDC6F41

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
