// The line of a YAML definition that a problem's JSON pointer names (/steps/1/module), for the
// compiler's problems that come without one (only syntax errors have a line). Block-style YAML
// only, as definitions are written; null where it cannot tell.

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** The 1-based line that `pointer` names in `source`, or null. */
export function pointerLine(source: string, pointer: string): number | null {
  const lines = source.split(/\r\n|\r|\n/);
  const segments = pointer.split("/").slice(1).map(unescape);
  let at = -1; // the line of the value found so far (-1: the document)
  let parentIndent = -1;
  for (const segment of segments) {
    const end = blockEnd(lines, at, parentIndent);
    let found = -1;
    if (/^\d+$/.test(segment)) {
      let seen = -1;
      let itemIndent = -1;
      for (let i = at + 1; i < end; i++) {
        const line = lines[i] ?? "";
        const text = line.trimStart();
        if (!text || text.startsWith("#")) continue;
        if (text.startsWith("- ") || text === "-") {
          if (itemIndent === -1) itemIndent = indentOf(line);
          if (indentOf(line) === itemIndent && ++seen === Number(segment)) {
            found = i;
            // The item's own keys sit after the dash: "- id: a" is at the dash's indent + 2.
            parentIndent = itemIndent;
            break;
          }
        }
      }
    } else {
      const key = new RegExp(`^(-\\s+)?["']?${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*:(\\s|$)`);
      for (let i = at + 1; i < end; i++) {
        const line = lines[i] ?? "";
        const text = line.trimStart();
        if (!text || text.startsWith("#")) continue;
        const match = key.exec(text);
        if (match && (at === -1 || i === at || indentOf(line) > parentIndent)) {
          found = i;
          parentIndent = indentOf(line) + (match[1]?.length ?? 0);
          break;
        }
      }
      // A key on the item's own line ("- id: a" when looking for id in that item).
      if (found === -1 && at >= 0 && key.test((lines[at] ?? "").trimStart())) found = at;
    }
    if (found === -1) return at >= 0 ? at + 1 : null;
    at = found;
  }
  return at >= 0 ? at + 1 : null;
}

/** Where the block under line `at` (indented past `indent`) ends. */
function blockEnd(lines: string[], at: number, indent: number): number {
  if (at < 0) return lines.length;
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const text = line.trimStart();
    if (!text || text.startsWith("#")) continue;
    if (indentOf(line) <= indent) return i;
  }
  return lines.length;
}
