// The emulator's admin API (/_emulator/, docs/emulator.md) for tests: GET without a body, POST
// with one; a non-2xx answer throws with the emulator's message.
export function emulatorAdmin(url: string) {
  return async function admin(action: string, body?: unknown): Promise<any> {
    const res = await fetch(`${url}/_emulator/${action}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`admin ${action}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  };
}
