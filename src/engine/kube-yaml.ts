// kube-up's flat YAML: one `KEY: 'value'` per line, single quotes doubled inside values. The
// master VMs read `kube-env`, `kube-master-certs` and `etcd-member-certs` in this format.

export function encodeFlatYaml(values: Record<string, string>): string {
  return (
    Object.entries(values)
      .map(([k, v]) => `${k}: '${v.replace(/'/g, "''")}'`)
      .join('\n') + '\n'
  );
}

export function decodeFlatYaml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!.trim();
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1).replace(/''/g, "'");
    else if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');
