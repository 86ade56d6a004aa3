// The one catalogue of image errors (malformed input: rejected before anything
// runs) and the ImageError that carries a code, the section and where in it.

/** Every reason an image is refused, with a one-line meaning. */
export const IMAGE_ERROR_TABLE = Object.freeze([
  { code: 'truncated', doc: 'The input ends before a declared field, record or section does.' },
  { code: 'bad-magic', doc: 'The input does not start with the image magic.' },
  { code: 'bad-version', doc: 'The format version is not one this decoder reads.' },
  { code: 'bad-flags', doc: 'A reserved header flag is set.' },
  { code: 'bad-header', doc: 'Header counts and section lengths disagree with each other or the sections.' },
  { code: 'bad-checksum', doc: 'The trailing CRC-32 does not match the bytes before it.' },
  { code: 'trailing-bytes', doc: 'Bytes follow where the image (or a section) should end.' },
  { code: 'limit', doc: 'A declared size or id is beyond the limits of a machine.' },
  { code: 'bad-id', doc: 'An object id is zero, not below nextId, repeated, or out of ascending order.' },
  {
    code: 'bad-object',
    doc: 'An object record is malformed (unknown tag, field out of range, wrong meter).',
  },
  { code: 'bad-key', doc: 'A key is of an unknown kind or carries fields its kind does not have.' },
  { code: 'dangling-key', doc: 'A key designates an object the image does not hold.' },
  { code: 'forged-version', doc: 'A key carries a version (or resume generation) its target does not have.' },
  { code: 'wrong-kind', doc: 'A key designates an object of a kind its key kind cannot designate.' },
  { code: 'bad-domain', doc: 'A domain page is too small or holds a wrong key in a special slot.' },
  { code: 'bad-meter', doc: 'A meter has a bad resource, parent, depth or amount.' },
  { code: 'bad-kernel', doc: 'A machine register is out of range or names something that is not a domain.' },
  { code: 'bad-json', doc: 'The JSON form does not have the shape of an image.' },
  {
    code: 'bad-compression',
    doc: 'A compressed image file is not valid gzip, or unpacks to more than the limit.',
  },
  {
    code: 'bad-debug-info',
    doc: 'The optional debug section after the state is cut short, damaged or not of the documented shape.',
  },
] as const);

export type ImageErrorCode = (typeof IMAGE_ERROR_TABLE)[number]['code'];

/** Error codes by name, e.g. `IMAGE_ERROR_CODES['bad-checksum'] === 'bad-checksum'`. */
export const IMAGE_ERROR_CODES = Object.freeze(
  Object.fromEntries(IMAGE_ERROR_TABLE.map((e) => [e.code, e.code])),
) as { readonly [C in ImageErrorCode]: C };

/** The parts of an image an error can point into. */
export type ImageSection =
  | 'header'
  | 'meters'
  | 'objects'
  | 'keys'
  | 'kernel'
  | 'checksum'
  | 'compression'
  | 'debug';

/** Where something is: a section and a byte offset (binary) or a JSON path (JSON form, store). */
export interface Where {
  readonly section: ImageSection;
  readonly offset: number | string;
}

/** Malformed image input. Nothing was built: the decoder returns a store or throws this. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly code: ImageErrorCode;
  readonly section: ImageSection;
  /** Byte offset from the start of the image, or a JSON path such as `$.objects[3].slots[5]`. */
  readonly offset: number | string;
  /** What is wrong, without the location prefix. */
  readonly reason: string;
  constructor(code: ImageErrorCode, where: Where, reason: string) {
    const at = typeof where.offset === 'number' ? `byte ${where.offset}` : where.offset;
    super(`${code}: ${where.section} at ${at}: ${reason}`);
    this.code = code;
    this.section = where.section;
    this.offset = where.offset;
    this.reason = reason;
  }
}

/** Throw an ImageError. */
export function refuse(code: ImageErrorCode, where: Where, reason: string): never {
  throw new ImageError(code, where, reason);
}
