import type { Consumer } from 'kafkajs';
import type { Logger } from './logger';

/**
 * Whether a kafkajs consumer is consuming, from the consumer's own events, for `/healthz`.
 *
 * A flag set once `consumer.run()` resolves can lie: kafkajs handles a crash of the first join
 * inside `run()` (CRASH is emitted, the consumer disconnected) and `run()` then resolves as
 * usual, so the flag would say "running" for a consumer that never joined. Here a consumer is
 * consuming from each group join until it crashes or stops. A crash that kafkajs will not
 * restart from (a non-retriable error) leaves the service without a consumer for good:
 * `onGivenUp` is told, so the service can exit and be restarted by its supervisor.
 */
export class ConsumerState {
  private state: 'starting' | 'consuming' | 'restarting' | 'stopped' = 'starting';

  constructor(
    private readonly logger: Logger,
    /** None: the service goes on without this consumer, and `isConsuming` says so. */
    private readonly onGivenUp: (err: Error) => void = () => undefined,
  ) {}

  /** Follows a consumer; call it before `run()`. */
  readonly watch = (consumer: Pick<Consumer, 'on' | 'events'>): void => {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.state = 'consuming';
    });
    consumer.on(consumer.events.CRASH, ({ payload: { error, restart } }) => {
      this.state = restart ? 'restarting' : 'stopped';
      this.logger.error(
        { err: String(error), restart },
        restart ? 'consumer crashed: kafkajs restarts it' : 'consumer crashed and will not restart',
      );
      if (!restart) this.onGivenUp(error);
    });
    consumer.on(consumer.events.STOP, () => {
      this.state = 'stopped';
    });
  };

  get isConsuming(): boolean {
    return this.state === 'consuming';
  }
}

/** The usual answer to a consumer given up on: log why and exit, so the supervisor restarts. */
export const exitProcess =
  (logger: Logger) =>
  (err: Error): void => {
    logger.fatal(
      { err: String(err) },
      'the Kafka consumer will not restart: exiting so that the service is restarted',
    );
    process.exit(1);
  };
