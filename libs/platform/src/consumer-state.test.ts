import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { ConsumerState } from './consumer-state';
import { createLogger } from './logger';

/** The part of a kafkajs consumer ConsumerState listens to, driven by hand. */
function fakeConsumer() {
  const emitter = new EventEmitter();
  const events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash', STOP: 'consumer.stop' };
  const consumer = {
    events,
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
  } as unknown as Pick<Consumer, 'on' | 'events'>;
  const emit = (event: keyof typeof events, payload: object = {}) => emitter.emit(events[event], { payload });
  return { consumer, emit };
}

test('a crash kafkajs restarts from is not healthy until the consumer joins again', () => {
  const { consumer, emit } = fakeConsumer();
  const givenUp: Error[] = [];
  const state = new ConsumerState(createLogger('test', 'fatal'), (err) => givenUp.push(err));
  state.watch(consumer);
  emit('GROUP_JOIN');
  assert.equal(state.isConsuming, true);
  emit('STOP'); // kafkajs disconnects before it reports the crash
  emit('CRASH', { error: new Error('connection lost'), restart: true });
  assert.equal(state.isConsuming, false);
  assert.equal(givenUp.length, 0, 'kafkajs restarts it: nothing to give up');
  emit('GROUP_JOIN');
  assert.equal(state.isConsuming, true);
  emit('CRASH', { error: new Error('not authorized'), restart: false });
  assert.equal(state.isConsuming, false);
  assert.deepEqual(
    givenUp.map((e) => e.message),
    ['not authorized'],
  );
});
