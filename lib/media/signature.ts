// Container families recognized by their magic numbers, independent of ffmpeg and of the file name: tells a
// damaged media file (known magic, unreadable) from something that never was media (no magic at all).

const signatures: [string, (b: Buffer) => boolean][] = [
  [
    'iso-bmff',
    (b) =>
      ['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot'].includes(b.subarray(4, 8).toString('latin1')),
  ],
  ['matroska', (b) => b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3],
  ['riff', (b) => b.subarray(0, 4).toString('latin1') === 'RIFF'],
  ['mpeg-ts', (b) => b[0] === 0x47 && b[188] === 0x47],
  ['mpeg-ps', (b) => b.length >= 4 && b.readUInt32BE(0) === 0x000001ba],
  ['ogg', (b) => b.subarray(0, 4).toString('latin1') === 'OggS'],
  ['flv', (b) => b.subarray(0, 3).toString('latin1') === 'FLV'],
  ['png', (b) => b.length >= 4 && b.readUInt32BE(0) === 0x89504e47],
  ['jpeg', (b) => b[0] === 0xff && b[1] === 0xd8],
];

/** Bytes of the head a signature needs (an MPEG-TS packet and the next sync byte). */
export const SIGNATURE_BYTES = 192;

/** The container family the first bytes of a file announce, or null when they announce none we know. */
export function containerSignature(head: Buffer): string | null {
  return signatures.find(([, test]) => test(head))?.[0] ?? null;
}
