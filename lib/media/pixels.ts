// Raw pixel formats the reader hands out, with their frame sizes and the typed array each one reads as.

export type FrameData = Uint8Array | Uint16Array | Float32Array;

interface FormatInfo {
  /** Bytes of one w×h frame. */
  bytes(w: number, h: number): number;
  view(buf: Buffer): FrameData;
  /** Needs even width and height (chroma subsampled 2×2). */
  even: boolean;
}

const u8 = (buf: Buffer) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
// The reader allocates every frame as its own ArrayBuffer (offset 0), so 16/32-bit views are aligned.
const u16 = (buf: Buffer) => new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
const f32 = (buf: Buffer) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const packed = (channels: number, bytesPerSample: number, view: FormatInfo['view']): FormatInfo => ({
  bytes: (w, h) => w * h * channels * bytesPerSample,
  view,
  even: false,
});

export const PIXEL_FORMATS = {
  /** Interleaved R, G, B bytes. */
  rgb24: packed(3, 1, u8),
  bgr24: packed(3, 1, u8),
  rgba: packed(4, 1, u8),
  gray: packed(1, 1, u8),
  /** Planar Y (w·h) then U and V (w/2·h/2 each): the derivative's own format, no conversion. */
  yuv420p: { bytes: (w: number, h: number) => w * h + 2 * (w / 2) * (h / 2), view: u8, even: true },
  gray16le: packed(1, 2, u16),
  /** Luma as float32 in [0, 1]. */
  grayf32le: packed(1, 4, f32),
  /** Planar G, B, R float32 planes in [0, 1]. */
  gbrpf32le: packed(3, 4, f32),
} satisfies Record<string, FormatInfo>;

export type PixelFormat = keyof typeof PIXEL_FORMATS;

export function isPixelFormat(name: string): name is PixelFormat {
  return Object.hasOwn(PIXEL_FORMATS, name);
}
