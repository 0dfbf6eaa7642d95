// Titles arrive from the network (source ports, admin API) and leave in XML, JSON, ICY blocks, ID3
// tags and Ogg comment headers. They are cleaned once, where they are stored, so every output gets text.

/** Longest title kept, in characters: above Icecast's 4080-byte ICY cap, far below anything costly. */
export const MAX_TITLE_CHARS = 1024;

/**
 * Tabs and line breaks become spaces; every other control character (C0, DEL, C1), lone surrogate and
 * non-character (U+FFFE, U+FFFF) is removed, since no XML document, ICY block or command line may hold
 * them. The result is trimmed and cut to MAX_TITLE_CHARS.
 */
export function cleanTitle(raw: string): string {
  const text = raw
    .replace(/[\t\n\r]/g, ' ')
    .replace(/[\p{Cc}\uFFFE\uFFFF]/gu, '')
    // A lone surrogate cannot be encoded as UTF-8 (it would become U+FFFD anyway) nor appear in XML.
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .trim();
  const chars = [...text];
  return chars.length > MAX_TITLE_CHARS ? chars.slice(0, MAX_TITLE_CHARS).join('').trimEnd() : text;
}

/** Characters XML 1.0 cannot carry at all, even as references: removed from any text written into XML. */
export function xmlSafe(s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}
