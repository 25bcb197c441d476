/** --store and --workers: what is accepted and what is refused, naming the flag. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveOptions } from '../../src/runtime/config.js';
import { redactUrl } from '../../src/store/redis-connection.js';

function refused(input: Parameters<typeof resolveOptions>[0]): ConfigError {
  try {
    resolveOptions(input);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('accepted');
}

test('--store takes memory, redis:// and rediss:// URLs', () => {
  assert.equal(resolveOptions({}).store, 'memory');
  for (const url of ['redis://127.0.0.1:6379', 'redis://user:secret@redis.example:6380/2', 'rediss://redis.example:6380']) {
    assert.equal(resolveOptions({ store: url }).store, url);
  }
});

test('--store refuses anything else, naming the flag', () => {
  assert.equal(refused({ store: 'redis' }).flag, '--store');
  assert.match(refused({ store: 'postgres://db:5432' }).message, /^--store: "memory", redis:\/\//);
  assert.match(refused({ store: 'redis://' }).message, /no host/);
});

test('--workers needs a shared store; --state-file is not used with Redis', () => {
  assert.equal(resolveOptions({ workers: 4, store: 'redis://127.0.0.1:6379' }).workers, 4);
  const e = refused({ workers: 2 });
  assert.equal(e.flag, '--workers');
  assert.match(e.message, /give --store redis:\/\/host:port/);
  assert.equal(refused({ workers: 0, store: 'redis://h:1' }).flag, '--workers');
  assert.equal(refused({ store: 'redis://h:1', stateFile: '/var/lib/wildkat/state' }).flag, '--state-file');
});

test('a Redis password never reaches the log', () => {
  assert.equal(redactUrl('redis://user:secret@h:6379/1'), 'redis://user:***@h:6379/1');
  assert.equal(redactUrl('rediss://secret@h:6379'), 'rediss://***@h:6379');
  assert.equal(redactUrl('redis://h:6379'), 'redis://h:6379');
});
