// Reads kube-up's flat YAML metadata values: one `KEY: 'value'` per line, single quotes doubled
// inside values (docs/vm-contract.md). Certificates in them are base64 of the PEM text.

export function parseFlatYaml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(raw.trim());
    if (!m) continue;
    let value = (m[2] ?? '').trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1).replace(/''/g, "'");
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

export function decodeBase64Pem(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return text.includes('-----BEGIN') ? text : undefined;
}
