import { decodeFlatYaml, encodeFlatYaml } from '../../src/engine/kube-yaml.ts';

describe('kube-up flat YAML', () => {
  test('round-trips values with quotes, colons and base64', () => {
    const values = { MULTIZONE: 'true', NOTE: "it's: odd", CERT: 'LS0tLS1CRUdJTg==' };
    const text = encodeFlatYaml(values);
    expect(text).toBe("MULTIZONE: 'true'\nNOTE: 'it''s: odd'\nCERT: 'LS0tLS1CRUdJTg=='\n");
    expect(decodeFlatYaml(text)).toEqual(values);
  });
  test('reads unquoted and double-quoted values as kube-env files have them', () => {
    expect(decodeFlatYaml('A: 1\nB: "two"\n# comment\n\nC: \'x\'')).toEqual({ A: '1', B: 'two', C: 'x' });
  });
});
