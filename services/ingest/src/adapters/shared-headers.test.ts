import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedHeaders } from './shared-headers';

test('a repeated sole content-type shares one object; other headers are decoded as they come', () => {
  const headers = new SharedHeaders();
  const json = () => ({ 'content-type': Buffer.from('application/json') });
  const first = headers.of(json());
  assert.deepEqual(first, { 'content-type': 'application/json' });
  assert.equal(headers.of(json()), first, 'shared');
  assert.ok(Object.isFrozen(first));
  const proto = headers.of({ 'content-type': Buffer.from('application/x-protobuf') });
  assert.deepEqual(proto, { 'content-type': 'application/x-protobuf' });
  assert.notEqual(headers.of(json()), first, 'the shared one follows the last content type');
  assert.deepEqual(headers.of({ 'content-type': Buffer.from('application/jsoN') }), {
    'content-type': 'application/jsoN',
  });
  assert.deepEqual(headers.of({ 'content-type': Buffer.from('application/json'), trace: Buffer.from('t') }), {
    'content-type': 'application/json',
    trace: 't',
  });
  assert.deepEqual(headers.of({ other: Buffer.from('x') }), { other: 'x' });
  assert.deepEqual(headers.of({ 'content-type': ['application/json'] }), {
    'content-type': 'application/json',
  });
  assert.deepEqual(headers.of(undefined), {});
  // The remembered bytes are a copy: a reused fetch buffer does not change them.
  const bytes = Buffer.from('application/json');
  const shared = headers.of({ 'content-type': bytes });
  bytes.write('xxxxxxxxxxx/json');
  assert.notEqual(headers.of({ 'content-type': bytes }), shared);
  assert.deepEqual(headers.of({ 'content-type': bytes }), { 'content-type': 'xxxxxxxxxxx/json' });
});
