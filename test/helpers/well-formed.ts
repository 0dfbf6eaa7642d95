// Just enough XML checking for tests (no XML parser is a dependency): every character is an XML 1.0
// Char, entities are known or numeric, and tags nest. Returns what is wrong, or undefined.

const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function xmlProblem(text: string): string | undefined {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) return `character U+${(bad[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')} at ${bad.index}`;
  const stack: string[] = [];
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+="[^"<]*")*)\s*(\/?)>|&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);|[<&]/g;
  for (let m = token.exec(body); m; m = token.exec(body)) {
    if (m[0] === '<' || m[0] === '&') return `stray ${m[0]} at ${m.index}: ${body.slice(m.index, m.index + 40)}`;
    if (m[5] !== undefined) continue;
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) {
      if (stack.pop() !== name) return `unbalanced </${name}> at ${m.index}`;
    } else stack.push(name as string);
  }
  return stack.length > 0 ? `unclosed <${stack.join('> <')}>` : undefined;
}
