// Markdown pieces for the job summary. GitHub renders the summary as HTML, so text that came from
// the cloud or the user is escaped before it lands in a table.

export function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One table cell: no pipes or line breaks may leak out of it. */
export function cell(s: string): string {
  return text(s).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Inline code; backquotes inside would end it early. */
export function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

export function table(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const rule = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** 850 ms, 4.2 s, 3 min 05 s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}
