import { randomBytes } from "node:crypto";

// Crockford base32: ids sort by creation time, so keyset pagination can order by id alone.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

/** A time-ordered id with a readable prefix: `inst_01jd5x…` (10 time chars + 16 random chars). */
export function newId(prefix: string): string {
  const now = Date.now();
  let random: Uint8Array;
  if (now === lastTime) {
    // Same millisecond: increment the previous random part so ids stay strictly increasing in this process.
    random = Uint8Array.from(lastRandom);
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = (random[i] + 1) & 0xff;
      if (random[i] !== 0) break;
    }
  } else {
    random = randomBytes(10);
  }
  lastTime = now;
  lastRandom = random;
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = "";
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      rand += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${prefix}_${time}${rand}`;
}
