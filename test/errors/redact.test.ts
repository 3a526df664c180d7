import { describe, expect, it } from 'vitest';
import { redact, REDACTED } from '../../shared/errors/redact.js';

describe('redact', () => {
  it.each([
    ['the values of named secrets, and their URL-encoded form', 'bad secret s3cr/et+1 (s3cr%2Fet%2B1)', ['s3cr/et+1'], `bad secret ${REDACTED} (${REDACTED})`],
    ['an Authorization header', 'sent Authorization: Bearer abc.def and failed', [], `sent Authorization: ${REDACTED}`],
    ['an authorization field in JSON', '{"authorization":"SSWS 00abcdef","x":1}', [], `{"authorization":"${REDACTED}","x":1}`],
    ['scheme tokens', 'token SSWS 00okta-api-token-value, Basic aHItc3luYzpwdw==, Bearer x1y2z3w4v5', [], `token SSWS ${REDACTED}, Basic ${REDACTED}, Bearer ${REDACTED}`],
    ['a JWT', 'assertion eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl rejected', [], `assertion ${REDACTED} rejected`],
    ['URL user-info', 'GET https://hr:pa55@files.example.org/x.csv failed', [], `GET https://${REDACTED}@files.example.org/x.csv failed`],
    ['secret query parameters', 'POST /token?client_id=abc&client_secret=xyz&scope=a', [], `POST /token?client_id=abc&client_secret=${REDACTED}&scope=a`],
    ['a private key', 'key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- bad', [], `key ${REDACTED} bad`],
  ])('removes %s', (_what, text, secrets, expected) => {
    expect(redact(text, secrets)).toBe(expected);
  });

  it('leaves ordinary sentences alone, and secrets too short to be told from words', () => {
    const sentence = 'Basic authentication failed for the Bearer of group 00g1 (HTTP 401); check the username and the password setting.';
    expect(redact(sentence, ['the', ''])).toBe(sentence);
  });
});
