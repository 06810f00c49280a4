import { describe, expect, it } from '@jest/globals';
import { redactUrl, urlSecrets } from '../../src/url-credentials.ts';

describe('redactUrl', () => {
  it.each([
    ['http://u:Pa55word@127.0.0.1:8085/path', 'http://***@127.0.0.1:8085/path'],
    ['https://host/compute?access_token=ya29.abc&x=1', 'https://host/compute?***'],
    ['wss://relay:s3cret@127.0.0.1:8443/#token', 'wss://***@127.0.0.1:8443/#***'],
    // Does not parse as a URL (a space in the host): still hidden.
    ['http://user:s3cret@ho st', 'http://***@ho st'],
    ['http://127.0.0.1:8085', 'http://127.0.0.1:8085'],
    ['localhost:8085', 'localhost:8085'],
  ])('%s -> %s', (text, shown) => {
    expect(redactUrl(text)).toBe(shown);
  });
});

describe('urlSecrets', () => {
  it('names the password, user, query values and fragment, decoded as well as encoded', () => {
    expect(urlSecrets('http://ci-user:Pa%2455word@h/?token=ya29.abcdef&v=1#frag-secret').sort()).toEqual(
      ['Pa$55word', 'Pa%2455word', 'ci-user', 'frag-secret', 'ya29.abcdef'].sort(),
    );
  });

  it('finds the user part of a URL that does not parse, and nothing in a plain one', () => {
    expect(urlSecrets('http://user:s3cret@ho st')).toEqual(['user:s3cret', 'user', 's3cret']);
    expect(urlSecrets('http://127.0.0.1:8085')).toEqual([]);
    expect(urlSecrets('')).toEqual([]);
  });
});
