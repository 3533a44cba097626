import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A short-lived, single-use ticket a browser passes as `?ticket=` when it opens a WebSocket, where
 * it cannot set a header credential. Only its hash is kept; redeeming it deletes the row.
 */
@Entity({ tableName: 'socket_ticket' })
export class SocketTicket {
  [OptionalProps]?: 'createdAt';

  /** The ticket's SHA-256: the ticket itself is never stored. */
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string' })
  accountId!: string;

  /** The API key it was issued with, checked again when it is redeemed; null for a signed-in session. */
  @Property({ type: 'string', nullable: true })
  apiKeyId!: string | null;

  @Property({ type: 'Date' })
  expiresAt!: Date;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
